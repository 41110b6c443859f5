package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// DB is what access needs of the datastore: queries and transactions
// (a *pgxpool.Pool is one).
type DB interface {
	catalog.Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// User is one row of public.users.
type User struct {
	Username  string    `json:"username"`
	IsAdmin   bool      `json:"is_admin"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// usernameRe matches the CHECK constraint of public.users: names also
// appear in connections.owner_username and audit rows, so keep them plain.
var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// inTx runs fn in a transaction that commits only if fn succeeds.
func inTx(ctx context.Context, db DB, fn func(tx pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// AddUser creates a user; actor is who did it, for the audit log.
func AddUser(ctx context.Context, db DB, actor, username string, admin bool) error {
	if !usernameRe.MatchString(username) {
		return invalid("username", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	}
	return inTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO public.users (username, is_admin) VALUES ($1, $2)`, username, admin); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("user %q: %w", username, ErrConflict)
			}
			return fmt.Errorf("add user %q: %w", username, err)
		}
		return audit(ctx, tx, actor, "user.add", "user:"+username, map[string]any{"is_admin": admin})
	})
}

// ListUsers returns every user, ordered by name.
func ListUsers(ctx context.Context, q catalog.Querier) ([]User, error) {
	rows, err := q.Query(ctx, `SELECT username, is_admin, disabled, created_at FROM public.users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[User])
}

// DisableUser disables a user: their tokens stop working at once. The
// user and their connections stay (collection goes on).
func DisableUser(ctx context.Context, db DB, actor, username string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE public.users SET disabled = true WHERE username = $1`, username)
		if err != nil {
			return fmt.Errorf("disable user %q: %w", username, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %q: %w", username, ErrNotFound)
		}
		return audit(ctx, tx, actor, "user.disable", "user:"+username, nil)
	})
}
