package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNameTaken is returned when a connection name is already in use.
var ErrNameTaken = errors.New("a connection with this name already exists")

// FindConnection returns the connection whose id or name is ref. A ref of
// digits is an id first and a name only if no id matches, so a connection
// named "42" stays reachable.
func FindConnection(ctx context.Context, q Querier, ref string) (Connection, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		c, err := scanConnection(q.QueryRow(ctx, `SELECT `+connectionColumns+` FROM public.connections WHERE id = $1`, id))
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return c, wrapFind(ref, err)
		}
	}
	c, err := scanConnection(q.QueryRow(ctx, `SELECT `+connectionColumns+` FROM public.connections WHERE name = $1`, ref))
	return c, wrapFind(ref, err)
}

func wrapFind(ref string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("connection %q: %w", ref, ErrNotFound)
	default:
		return fmt.Errorf("read connection %q: %w", ref, err)
	}
}

// ConnectionUpdate lists the columns to change; nil leaves one as it is.
// An empty string stores NULL in the optional columns (hostaddr, TLS
// files, password).
type ConnectionUpdate struct {
	Name, Host, Hostaddr, Database, Username *string
	Port                                     *int
	PasswordEncrypted                        *string
	SSLMode, SSLCert, SSLKey, SSLRootCert    *string
	// Owner replaces the owner: exactly one of its fields is set, the
	// other column is cleared, so a connection never has two owners.
	Owner     *Owner
	Monitored *bool
}

// Owner is who a connection belongs to: a user name or an opaque token.
type Owner struct {
	Username string
	Token    string
}

// Empty reports whether no field of u is set.
func (u ConnectionUpdate) Empty() bool { return u == ConnectionUpdate{} }

// UpdateConnection changes the given columns of connection id and sets
// updated_at. The collectors pick the change up at their next catalog
// refresh; a change to anything used to connect replaces the server's
// pooled sessions there.
func UpdateConnection(ctx context.Context, q Querier, id int64, u ConnectionUpdate) error {
	var sets []string
	var args []any
	set := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	opt := func(col string, v *string) {
		if v != nil {
			args = append(args, *v)
			sets = append(sets, fmt.Sprintf("%s = nullif($%d, '')", col, len(args)))
		}
	}
	for col, v := range map[string]*string{"name": u.Name, "host": u.Host, "database_name": u.Database,
		"username": u.Username, "sslmode": u.SSLMode} {
		if v != nil {
			set(col, *v)
		}
	}
	if u.Port != nil {
		set("port", *u.Port)
	}
	opt("hostaddr", u.Hostaddr)
	opt("password_encrypted", u.PasswordEncrypted)
	opt("sslcert", u.SSLCert)
	opt("sslkey", u.SSLKey)
	opt("sslrootcert", u.SSLRootCert)
	if u.Owner != nil {
		opt("owner_username", &u.Owner.Username)
		opt("owner_token", &u.Owner.Token)
	}
	if u.Monitored != nil {
		set("is_monitored", *u.Monitored)
	}
	if len(sets) == 0 {
		return nil
	}
	args = append(args, id)
	tag, err := q.Exec(ctx, fmt.Sprintf(`UPDATE public.connections SET %s, updated_at = now() WHERE id = $%d`,
		strings.Join(sets, ", "), len(args)), args...)
	if err != nil {
		return fmt.Errorf("update connection %d: %w", id, nameTaken(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	return nil
}

// RemoveConnection deletes connection id. Its probe state goes with it
// (the state tables cascade); its rows in metrics.* stay until retention
// drops their partitions, still carrying the old connection_id.
func RemoveConnection(ctx context.Context, q Querier, id int64) error {
	tag, err := q.Exec(ctx, `DELETE FROM public.connections WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("remove connection %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	return nil
}

// nameTaken turns the unique violation on connections.name into
// ErrNameTaken.
func nameTaken(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && strings.Contains(pgErr.ConstraintName, "name") {
		return ErrNameTaken
	}
	return err
}
