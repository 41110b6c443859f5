package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// readmeBlock returns the shell text between <!-- name:begin --> and
// <!-- name:end --> of README.md, without its fence.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile("(?s)<!-- " + name + ":begin -->\\s*```sh\\n(.*?)```\\s*<!-- " + name + ":end -->").
		FindStringSubmatch(readmeFile(t))
	require.NotNil(t, m, "README.md has no %s block", name)
	return m[1]
}

// replaceOnce replaces old, which must occur in s, by new.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old, "the quick start changed: update TestReadmeQuickStart")
	return strings.Replace(s, old, new, 1)
}

// TestReadmeQuickStart runs README.md's quick start with bash, as a user
// would, against two real clusters: a datastore and a server to watch,
// prepared with the README's SQL. Only the addresses, the password and the
// wait are replaced, and `make build` by the binary the test builds.
func TestReadmeQuickStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	store := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgcollector")
	watched := pgtest.Start(t, pgtest.Options{})
	const password = "quickstart-canary-pw"
	sql := regexp.MustCompile("(?s)```sql\\n(CREATE ROLE pgc_monitor.*?)```").FindStringSubmatch(readmeFile(t))
	require.NotNil(t, sql, "README.md's quick start SQL")
	watched.Exec(t, "postgres", strings.ReplaceAll(sql[1], "change-me", password))

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	_, err := e2e.Build(ctx, filepath.Join(dir, "bin"))
	require.NoError(t, err)

	script := readmeBlock(t, "quickstart")
	script = replaceOnce(t, script, "make build ", ": ")
	script = replaceOnce(t, script, "postgres://pgcollector@localhost:5432/pgcollector", store.DSN("pgcollector"))
	script = replaceOnce(t, script, "--host localhost --port 5432", "--host 127.0.0.1 --port "+strconv.Itoa(watched.Port))
	script = replaceOnce(t, script, "echo change-me", "echo "+password)
	script = replaceOnce(t, script, "sleep 60\n", `for i in $(seq 90); do
  [ "$(psql "$PGC_DATASTORE_URL" -tAc 'SELECT count(*) FROM metrics.pg_connectivity')" != 0 ] && break; sleep 1
done
`)
	script += "wait\n"

	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "USER=quickstart", "PGC_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(freePortNumber(t)),
		"PGC_CATALOG_REFRESH=1s")
	out, err := cmd.CombinedOutput()
	text := string(out)
	require.NoError(t, err, text)
	require.NotContains(t, text, password)
	require.Regexp(t, `(?m)^\s*\d{4}-\d\d-\d\d [0-9:.+]+ \| t\s+\|`, text, "a pg_connectivity sample with up = true:\n%s", text)
	require.Contains(t, text, "first", "status names the connection:\n%s", text)
}

func readmeFile(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	return string(raw)
}
