// Package obs is how operators see the collector: its Prometheus
// self-metrics (a private registry, every series prefixed pgcollector_),
// the HTTP server on PGC_HTTP_ADDR (/metrics, /healthz, /readyz, the fleet
// page at / and its JSON under /api/), the fleet report that both the page
// and `pgcollector status` read from the datastore, and the buffer backlog
// read from JetStream. Stages do not import it: each stage declares the
// small Observer interface it reports to, and Metrics implements all of
// them, so the data path depends on no metrics library.
package obs
