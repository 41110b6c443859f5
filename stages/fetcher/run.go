package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/probes"
)

// runOn runs one probe on one database and publishes the outcome: a rows
// batch, or a status batch saying why there are no rows. Only publish
// errors are returned; the probe's own failure is data for the datastore.
func (f *Fetcher) runOn(ctx context.Context, job bus.Job, conn catalog.Connection, p probes.Probe,
	pc catalog.ProbeConfig, db string, log *slog.Logger) error {
	collectedAt := f.now().UTC().Truncate(time.Microsecond)
	runCtx, cancel := context.WithTimeout(ctx, f.cfg.ProbeDeadline)
	defer cancel()
	storedDB := ""
	if p.Scope == probes.ScopeDatabase {
		storedDB = db
	}
	key := availKey{conn.ID, db, p.Name}
	sess, err := f.pool.Acquire(runCtx, conn, db)
	if err != nil {
		f.stats.ProbeErrors.Add(1)
		f.obs.ProbeRun(p.Name, ResultError, 0, 0)
		if f.acquireFailed(conn, err, log) {
			return f.publishConnectionError(ctx, job, conn, p, storedDB, collectedAt, err)
		}
		if ctx.Err() == nil {
			f.probeFailed(key, err, log)
		}
		if p.RoundTrip {
			return f.publishRows(ctx, p, rowsBatch(job, conn, p, storedDB, collectedAt, roundTripFailure(conn.ID, collectedAt, err)))
		}
		return f.publishStatus(ctx, job, conn, p, storedDB, false, err.Error())
	}
	f.serverUp(conn, log)
	version := serverVersion(sess)
	if reason, skip := f.availability(runCtx, sess, conn, p, db, version); skip {
		sess.Release(runCtx.Err() != nil)
		f.obs.ProbeRun(p.Name, ResultUnavailable, 0, 0)
		if reason == "" {
			return nil
		}
		f.stats.Unavailable.Add(1)
		log.Debug("probe unavailable", "reason", reason)
		return f.publishStatus(ctx, job, conn, p, storedDB, true, reason)
	}
	// The sample is taken now, not when the job began: waiting for the
	// server's session (the database probes of a server queue for one) is
	// not part of the sample's age.
	collectedAt = f.now().UTC().Truncate(time.Microsecond)
	f.stats.ProbeRuns.Add(1)
	start := time.Now()
	var data []byte
	if p.RoundTrip {
		data, err = roundTrip(runCtx, sess, conn.ID, collectedAt)
	} else {
		var sql string
		data, sql, err = f.copyOut(runCtx, sess, conn, p, pc, version, collectedAt)
		if err == nil {
			f.checkCap(runCtx, sess, key, p, sql, data, log)
		}
	}
	sess.Release(err != nil)
	took := time.Since(start)
	if err != nil {
		f.stats.ProbeErrors.Add(1)
		f.obs.ProbeRun(p.Name, ResultError, took, 0)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42883" || pgErr.Code == "58P01" || pgErr.Code == "42501" || pgErr.Code == "42703") {
			// The view or function vanished (extension dropped), a column
			// did (extension updated) or the privilege was revoked: check
			// availability again on the next run instead of failing on.
			f.avail.forget(conn.ID, db, p.Name)
		}
		if ctx.Err() == nil {
			f.probeFailed(key, err, log)
		}
		return f.publishStatus(ctx, job, conn, p, storedDB, false, err.Error())
	}
	f.probeSucceeded(key, log)
	b := rowsBatch(job, conn, p, storedDB, collectedAt, data)
	f.obs.ProbeRun(p.Name, ResultOK, took, b.Rows)
	err = f.publishRows(ctx, p, b)
	if err == nil && !p.RoundTrip {
		// Published and acknowledged: no message refers to the rows any
		// more. After a failed publish the buffer is left to the garbage
		// collector, since an unacknowledged message may still be sent.
		bufpool.Put(data)
	}
	return err
}

// copyOut runs the probe as COPY (...) TO STDOUT with database_name
// prepended by the server for database-scoped probes, and connection_id
// and collected_at written in front of each row as it arrives
// (RowPrefixer), so the bytes are ready for COPY FROM in the datastore and
// the collector never decodes a row. It also returns the probe's query
// before the object cap, for checkCap.
func (f *Fetcher) copyOut(ctx context.Context, sess *monpool.Session, conn catalog.Connection, p probes.Probe,
	pc catalog.ProbeConfig, version int, at time.Time) ([]byte, string, error) {
	hint := availKey{conn.ID, sess.Database, p.Name}
	sql, ok := f.avail.query(hint), true
	if sql == "" {
		sql, ok = p.QueryFor(version)
	}
	if !ok {
		return nil, "", fmt.Errorf("no query for server version %d", version)
	}
	st := f.stmts.get(p, pc, version, sql, f.cfg.StatementsTopN, f.caps.limit(p))
	sql, copySQL := st.sql, st.copy
	w := NewRowPrefixer(conn.ID, at, f.avail.sizeHint(hint))
	if _, err := sess.Conn.PgConn().CopyTo(ctx, w, copySQL); err != nil {
		w.Release()
		return nil, "", fmt.Errorf("copy out %s: %w", p.Name, err)
	}
	f.avail.setSize(hint, len(w.Bytes()))
	return w.Bytes(), sql, nil
}

// ProbeStatement is what the server is sent for one run of the probe's
// query sql: COPY (...) TO STDOUT, with database_name put first by the
// server for database-scoped probes. The text must not change from run to
// run (see RowPrefixer).
//
// A probe that needs a transaction (a stats snapshot, or timeouts set for
// it alone) gets BEGIN, the COPY and COMMIT in one simple-query message:
// one round trip and one wake-up of the server's backend instead of three.
// An error skips the rest of the message and leaves the transaction
// aborted; the session is then closed (Release with broken), as after any
// failed run.
func ProbeStatement(p probes.Probe, pc catalog.ProbeConfig, version int, sql string) string {
	cols := "q.*"
	if p.Scope == probes.ScopeDatabase {
		cols = "current_database()::text, q.*"
	}
	stmt := "COPY (SELECT " + cols + " FROM (" + sql + ") q) TO STDOUT"
	if begin := beginFor(p, pc, version); begin != "" {
		stmt = begin + ";\n" + stmt + ";\nCOMMIT"
	}
	return stmt
}

// beginFor returns the statements that open the probe's transaction, or
// "" when it runs on its own: snapshot probes read all statistics as of
// one moment (stats_fetch_consistency, PostgreSQL 15+), and per-probe
// timeouts apply to this probe only (SET LOCAL).
func beginFor(p probes.Probe, pc catalog.ProbeConfig, version int) string {
	if !p.Snapshot && pc.StatementTimeoutMs <= 0 && pc.LockTimeoutMs <= 0 {
		return ""
	}
	begin := "BEGIN READ ONLY"
	if p.Snapshot {
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
		if version >= 150000 {
			begin += ";\nSET LOCAL stats_fetch_consistency = snapshot"
		}
	}
	if pc.StatementTimeoutMs > 0 {
		begin += fmt.Sprintf(";\nSET LOCAL statement_timeout = %d", pc.StatementTimeoutMs)
	}
	if pc.LockTimeoutMs > 0 {
		begin += fmt.Sprintf(";\nSET LOCAL lock_timeout = %d", pc.LockTimeoutMs)
	}
	return begin
}

// publishRows publishes a rows batch made by rowsBatch.
func (f *Fetcher) publishRows(ctx context.Context, p probes.Probe, b bus.Batch) error {
	f.stats.Rows.Add(int64(b.Rows))
	if err := f.bus.PublishBatch(ctx, b); err != nil {
		return err
	}
	f.obs.BatchPublished(p.Name, string(bus.KindRows))
	return nil
}

func rowsBatch(job bus.Job, conn catalog.Connection, p probes.Probe, db string, at time.Time, data []byte) bus.Batch {
	names := p.StoredColumnNames()
	b := bus.Batch{
		ID:           bus.BatchID(conn.ID, p.Name, job.Slot, db),
		Kind:         bus.KindRows,
		ConnectionID: conn.ID,
		Probe:        p.Name,
		Database:     db,
		CollectedAt:  at,
		Rows:         bytes.Count(data, []byte{'\n'}),
		Columns:      names,
		Data:         data,
	}
	if p.ChangeTracked {
		b.Hash = snapshotHash(data, len(names)-len(p.Columns))
	}
	return b
}

func (f *Fetcher) publishStatus(ctx context.Context, job bus.Job, conn catalog.Connection, p probes.Probe,
	db string, unavailable bool, reason string) error {
	err := f.bus.PublishBatch(ctx, statusBatch(job, conn, p, db, f.now().UTC(), unavailable, reason))
	if err == nil {
		f.obs.BatchPublished(p.Name, string(bus.KindStatus))
	}
	return err
}

func statusBatch(job bus.Job, conn catalog.Connection, p probes.Probe, db string, at time.Time,
	unavailable bool, reason string) bus.Batch {
	return bus.Batch{
		ID:           bus.BatchID(conn.ID, p.Name, job.Slot, db) + "!status",
		Kind:         bus.KindStatus,
		ConnectionID: conn.ID,
		Probe:        p.Name,
		Database:     db,
		CollectedAt:  at,
		Unavailable:  unavailable,
		Reason:       reason,
	}
}
