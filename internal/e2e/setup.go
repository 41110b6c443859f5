package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// MonitorRole creates a login role with pg_monitor and the grants README
// documents, and the given extra databases.
func MonitorRole(ctx context.Context, c *pgtest.Cluster, role, password string, databases ...string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	stmts := []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s", pgx.Identifier{role}.Sanitize(), quoteLiteral(password)),
		fmt.Sprintf("GRANT pg_monitor TO %s", pgx.Identifier{role}.Sanitize()),
	}
	if c.Major >= 15 {
		stmts = append(stmts,
			"GRANT SELECT ON pg_catalog.pg_hba_file_rules TO "+pgx.Identifier{role}.Sanitize(),
			"GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO "+pgx.Identifier{role}.Sanitize(),
			"GRANT SELECT ON pg_catalog.pg_ident_file_mappings TO "+pgx.Identifier{role}.Sanitize(),
			"GRANT EXECUTE ON FUNCTION pg_catalog.pg_ident_file_mappings() TO "+pgx.Identifier{role}.Sanitize())
	} else {
		stmts = append(stmts,
			"GRANT SELECT ON pg_catalog.pg_hba_file_rules TO "+pgx.Identifier{role}.Sanitize(),
			"GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO "+pgx.Identifier{role}.Sanitize())
	}
	for _, db := range databases {
		stmts = append(stmts, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(s, " PASSWORD", 2)[0], err)
		}
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Exec runs statements as the superuser in database.
func Exec(ctx context.Context, c *pgtest.Cluster, database string, sql ...string) error {
	conn, err := pgx.Connect(ctx, c.DSN(database))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// CreateDatabase creates a database on the cluster as the superuser.
func CreateDatabase(ctx context.Context, c *pgtest.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// WriteSecret writes a server secret file into dir and returns its path.
func WriteSecret(dir, secret string) (string, error) {
	p := filepath.Join(dir, "server.secret")
	return p, os.WriteFile(p, []byte(secret+"\n"), 0o600)
}
