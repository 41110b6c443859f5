package fetcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/internal/monpool"
)

// serverVersion reads server_version_num from the startup parameters the
// server reported, so no query is needed: "15.18 (Debian...)" → 150018.
func serverVersion(sess *monpool.Session) int {
	v := sess.Conn.PgConn().ParameterStatus("server_version")
	major, rest, _ := strings.Cut(v, ".")
	maj, _ := strconv.Atoi(major)
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		rest = rest[:i]
	}
	minor, _ := strconv.Atoi(rest)
	return maj*10000 + minor
}

// roundTrip times SELECT 1 on the session and returns the pg_connectivity
// row: connection_id, collected_at, up, response_time_ms, error.
func roundTrip(ctx context.Context, sess *monpool.Session, conn int64, at time.Time) ([]byte, error) {
	start := time.Now()
	if _, err := sess.Conn.Exec(ctx, "SELECT 1"); err != nil {
		return roundTripFailure(conn, at, err), nil
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	return fmt.Appendf(nil, "%d\t%s\tt\t%.3f\t\\N\n", conn, at.Format(time.RFC3339Nano), ms), nil
}

func roundTripFailure(conn int64, at time.Time, err error) []byte {
	return fmt.Appendf(nil, "%d\t%s\tf\t\\N\t%s\n", conn, at.Format(time.RFC3339Nano), copyEscape(err.Error()))
}

// copyEscape escapes text for one field of COPY text format.
func copyEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// snapshotHash digests the rows of a change-tracked probe without their
// first skip fields (connection_id, collected_at, database_name) and
// regardless of row order, so two snapshots compare equal exactly when the
// probe saw the same rows.
func snapshotHash(data []byte, skip int) string {
	lines := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	for i, l := range lines {
		for range skip {
			if j := bytes.IndexByte(l, '\t'); j >= 0 {
				l = l[j+1:]
			}
		}
		lines[i] = l
	}
	sort.Slice(lines, func(i, j int) bool { return bytes.Compare(lines[i], lines[j]) < 0 })
	h := sha256.New()
	for _, l := range lines {
		h.Write(l)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
