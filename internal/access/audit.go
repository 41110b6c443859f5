package access

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// AuditEntry is one row of public.audit_log.
type AuditEntry struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details map[string]any `json:"details"`
}

// audit records a change in the same transaction as the change, so that
// no change goes unrecorded. details must never hold a secret: callers
// pass field names and non-secret values only.
func audit(ctx context.Context, q catalog.Querier, actor, action, target string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO public.audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)`,
		actor, action, target, raw); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// ListAudit returns the newest limit audit rows, newest first.
func ListAudit(ctx context.Context, q catalog.Querier, limit int) ([]AuditEntry, error) {
	rows, err := q.Query(ctx, `SELECT id, at, actor, action, target, details FROM public.audit_log
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.Details); err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Audited runs fn and records its audit row in one transaction: the CLI's
// changes are audited like the API's. fn returns the target it changed
// (e.g. "connection:7"); details must hold no secret.
func Audited(ctx context.Context, db DB, actor, action string, details map[string]any,
	fn func(tx pgx.Tx) (target string, err error)) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		target, err := fn(tx)
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, action, target, details)
	})
}

// ConnectionTarget is how a connection is named in the audit log.
func ConnectionTarget(id int64) string { return target(id) }
