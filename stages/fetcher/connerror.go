package fetcher

import (
	"context"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

// publishConnectionError publishes the batch of a probe that got no
// session because the whole server failed (unreachable, login refused,
// TLS), marked so that the sink records the error in
// connections.connection_error. The fetcher never writes to the datastore
// itself: collection must not wait on it. The pool manager backs off from
// such a server, so the probes that follow fail fast without dialling.
func (f *Fetcher) publishConnectionError(ctx context.Context, job bus.Job, conn catalog.Connection,
	p probes.Probe, db string, at time.Time, err error) error {
	b := statusBatch(job, conn, p, db, f.now().UTC(), false, err.Error())
	if p.RoundTrip {
		// The connectivity probe stores the failure as its row.
		b = rowsBatch(job, conn, p, db, at, roundTripFailure(conn.ID, at, err))
		b.Reason = err.Error()
	}
	b.ConnectionError = true
	if err := f.bus.PublishBatch(ctx, b); err != nil {
		return err
	}
	f.obs.BatchPublished(p.Name, string(b.Kind))
	return nil
}
