package fetcher

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

func TestRowPrefixerPrefixesEveryRowWhateverTheChunks(t *testing.T) {
	at := time.Date(2026, 11, 25, 1, 2, 3, 450000000, time.UTC)
	want := "7\t2026-11-25 01:02:03.45+00\ta\t1\n7\t2026-11-25 01:02:03.45+00\tb\\nc\t2\n"
	for _, chunks := range [][]string{
		{"a\t1\n", "b\\nc\t2\n"},         // one row per CopyData, as servers send
		{"a\t", "1\nb", "\\nc\t2", "\n"}, // any other cut
		{"a\t1\nb\\nc\t2\n"},
	} {
		w := NewRowPrefixer(7, at, 0)
		for _, c := range chunks {
			n, err := w.Write([]byte(c))
			require.NoError(t, err)
			require.Equal(t, len(c), n)
		}
		require.Equal(t, want, string(w.Bytes()))
	}
	require.Empty(t, NewRowPrefixer(7, at, 64).Bytes(), "no rows, no prefix")
}

// The prefix must read back as the same instant, and look exactly like the
// server's own output of a timestamptz, so COPY text stays what it was
// when the server selected collected_at itself.
func TestRowPrefixerTimeMatchesServerOutput(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(c.DSN("postgres"))
	require.NoError(t, err)
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["DateStyle"] = "ISO, MDY"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, at := range []time.Time{
		time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 11, 25, 1, 2, 3, 100000000, time.UTC),
		time.Date(2026, 1, 5, 23, 59, 59, 999999000, time.UTC),
		time.Date(2026, 1, 5, 0, 0, 0, 1000, time.FixedZone("x", 3600)),
	} {
		var server bytes.Buffer
		_, err := conn.PgConn().CopyTo(ctx, &server,
			"COPY (SELECT 1::integer, '"+at.Format(time.RFC3339Nano)+"'::timestamptz, 'x'::text) TO STDOUT")
		require.NoError(t, err)
		w := NewRowPrefixer(1, at, 0)
		_, _ = w.Write([]byte("x\n"))
		require.Equal(t, server.String(), string(w.Bytes()), at)
	}
}
