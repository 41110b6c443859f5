package bus

import (
	"bytes"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

func TestBatchCodecRoundTrip(t *testing.T) {
	for name, bt := range map[string]Batch{
		"rows":     rowsBatch("1.p.1.db", 4096, 64),
		"status":   {ID: "1.p.1", Kind: KindStatus, Probe: "p", Parts: 1, Reason: "boom\r\n  ", CollectedAt: time.Unix(0, 0).UTC()},
		"escaping": {ID: "1.p.1. x%", Kind: KindRows, Probe: "p", Database: " x% ü\t", Parts: 2, Part: 1, Data: []byte("a\n"), CollectedAt: time.Unix(5, 5).UTC()},
		"connection error": {ID: "1.p.1!status", Kind: KindStatus, Probe: "p", Parts: 1, ConnectionError: true,
			Reason: "tls error: x509: certificate signed by unknown authority", CollectedAt: time.Unix(7, 0).UTC()},
		// Every optional header at once fills the encoder's value array.
		// A compressed body adds Pgc-Encoding too.
		"all optional": {ID: "1.p.1.db", Kind: KindRows, Probe: "p", Database: "db", Hash: "ab", Unavailable: true,
			Reason: "r", ConnectionError: true, Parts: 1, Columns: []string{"a"}, Data: bytes.Repeat([]byte("1\n"), 4096),
			CollectedAt: time.Unix(9, 0).UTC()},
	} {
		t.Run(name, func(t *testing.T) {
			m := EncodeBatch(bt)
			require.Equal(t, "pgc.batches."+bt.Probe, m.Subject)
			if m.Header.Get("Pgc-Encoding") == "" {
				require.Equal(t, "1", m.Header.Get("Pgc-V"))
			} else {
				require.Equal(t, "2", m.Header.Get("Pgc-V"))
			}
			require.NotEmpty(t, m.Header.Get("Nats-Msg-Id"))
			// Through the wire encoding nats.go uses, which trims values.
			wire := nats.NewMsg(m.Subject)
			for k, vs := range m.Header {
				for _, v := range vs {
					require.NotContains(t, v, "\n")
					require.Equal(t, v, trimmed(v), k)
					wire.Header.Add(k, v)
				}
			}
			got, err := DecodeBatch(m.Data, wire.Header)
			require.NoError(t, err)
			require.Equal(t, bt, got)
		})
	}
}

func trimmed(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func TestDecodeBatchRejectsBadHeaders(t *testing.T) {
	good := EncodeBatch(rowsBatch("1.p.1", 100, 50)).Header
	for name, tc := range map[string]struct {
		key, value string
		want       string
	}{
		"missing version": {"Pgc-V", "", "no message version"},
		"future version":  {"Pgc-V", "3", "newer than this build"},
		"bad version":     {"Pgc-V", "one", "malformed message version"},
		"no id":           {"Pgc-Id", "", "Pgc-Id: missing"},
		"bad connection":  {"Pgc-Connection", "x", "Pgc-Connection: not an integer"},
		"bad time":        {"Pgc-Collected-At", "yesterday", "not an RFC 3339 time"},
		"unknown kind":    {"Pgc-Kind", "blob", "unknown kind"},
		"part past parts": {"Pgc-Part", "1", "part 1 of 1"},
		"bad bool":        {"Pgc-Unavailable", "yes", "not a boolean"},
		"bad conn error":  {"Pgc-Connection-Error", "1", "not a boolean"},
		"bad escape":      {"Pgc-Database", "%zz", "bad escape"},
		"negative rows":   {"Pgc-Rows", "-1", "negative row count"},
	} {
		t.Run(name, func(t *testing.T) {
			h := nats.Header{}
			for k, v := range good {
				h[k] = v
			}
			if tc.value == "" {
				delete(h, tc.key)
			} else {
				h.Set(tc.key, tc.value)
			}
			_, err := DecodeBatch([]byte("x\n"), h)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestJobAndTickCodec(t *testing.T) {
	j := Job{ConnectionID: 12, Probe: "pg_locks", Slot: 1234, IntervalSeconds: 30, ScheduledAt: time.Unix(37020, 0).UTC()}
	m := EncodeJob(j)
	require.Equal(t, "pgc.jobs.pg_locks", m.Subject)
	require.Equal(t, "12.pg_locks.1234", m.Header.Get("Nats-Msg-Id"))
	require.Equal(t, "12.pg_locks.1234", JobID(j))
	require.Contains(t, string(m.Data), `"v":1,`, "jobs stay readable by builds before version 2")
	got, err := DecodeJob(m.Data, m.Header)
	require.NoError(t, err)
	require.Equal(t, j, got)

	tick := Tick{Name: "retention", Period: "2026-01-05", At: time.Unix(99, 0).UTC()}
	m = EncodeTick(tick)
	require.Equal(t, "pgc.timers.retention", m.Subject)
	require.Equal(t, "retention.2026-01-05", m.Header.Get("Nats-Msg-Id"))
	gotTick, err := DecodeTick(m.Data, m.Header)
	require.NoError(t, err)
	require.Equal(t, tick, gotTick)

	for body, want := range map[string]string{
		`{"v":3,"probe":"p"}`: "newer than this build",
		`{"probe":"p"}`:       "no message version",
		`not json`:            "decode job",
		`{"v":1}`:             "no probe",
	} {
		_, err := DecodeJob([]byte(body), nil)
		require.ErrorContains(t, err, want, body)
	}
	_, err = DecodeTick([]byte(`{"v":3,"name":"r","period":"x"}`), nil)
	require.ErrorContains(t, err, "newer than this build")
}

func TestBatchID(t *testing.T) {
	require.Equal(t, "3.pg_stat_bgwriter.77", BatchID(3, "pg_stat_bgwriter", 77, ""))
	require.Equal(t, "3.pg_stat_user_tables.77.app", BatchID(3, "pg_stat_user_tables", 77, "app"))
}

// The codec's cost beyond s2 must not grow with rows: encoding and
// decoding a 64 KB batch touch only the headers and the compressed body.
func BenchmarkEncodeBatch64K(b *testing.B) {
	bt := rowsBatch(BatchID(7, "pg_stat_all_tables", 99, "app"), 64*1024, 234)
	b.SetBytes(int64(len(bt.Data)))
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeBatch(bt)
	}
}

func BenchmarkDecodeBatch64K(b *testing.B) {
	bt := rowsBatch(BatchID(7, "pg_stat_all_tables", 99, "app"), 64*1024, 234)
	m := EncodeBatch(bt)
	b.SetBytes(int64(len(bt.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(m.Data, m.Header); err != nil {
			b.Fatal(err)
		}
	}
}
