// Package sinktest stores runs of a keyed probe through the real sink
// (sink.Ingester, change-only storage on as by default) into a test
// datastore, for the tests of the readers above it (internal/api,
// internal/mcpserver) that must see what the sink really leaves in the
// tables: only the changed rows of a run, marker rows and tombstones.
package sinktest
