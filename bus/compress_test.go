package bus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// tablesCopyText makes at least size bytes of COPY text shaped like the
// fetcher's pg_stat_all_tables output: connection id, collection time and
// database, then relid, schema, name, counters and timestamps. A quarter
// of the tables are quiet catalog tables (zeros and \N); the others have
// counters of every magnitude, related as in PostgreSQL (inserts and live
// tuples, scans and tuples read) but not equal, and vacuum times spread
// over days. Output of a real database of 600 tables compresses a little
// better (s2 4.2x), so this is the cautious case.
func tablesCopyText(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	const layout = "2006-01-02 15:04:05.999999-07"
	at := time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)
	var b bytes.Buffer
	b.Grow(size + 1024)
	num := func(v int64) {
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(v, 10))
	}
	some := func(max int64) int64 { // log-uniform: most counters are short
		if max < 1 {
			return 0
		}
		return r.Int64N(min(max, pow10(r.IntN(10))) + 1)
	}
	ts := func(set bool) {
		if !set {
			b.WriteString("\t\\N")
			return
		}
		b.WriteByte('\t')
		b.WriteString(at.Add(-time.Duration(r.Int64N(int64(72 * time.Hour)))).Truncate(time.Microsecond).Format(layout))
	}
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "7\t%s\tapp\t%d", at.Format(layout), 16384+i)
		if i%4 == 0 {
			fmt.Fprintf(&b, "\tpg_catalog\tpg_%s_%d", []string{"class", "attribute", "statistic", "index"}[i/4%4], i)
			b.WriteString("\t0\t\\N\t0")
			num(some(1e4))
			b.WriteString("\t\\N")
			num(some(1e5))
			b.WriteString("\t0\t0\t0\t0")
			num(some(1e4))
			b.WriteString("\t0\t0\t0\t\\N\t\\N\t\\N\t\\N\t0\t0\t0\t0\t0\t0\t0\t0")
			num(some(1e3))
			num(some(1e6))
			num(some(1e3))
			num(some(1e6))
			b.WriteString("\t0\t0\t0\t0\n")
			continue
		}
		fmt.Fprintf(&b, "\tpublic\torders_2025_%02d_%d", i%12+1, i)
		ins := some(1e9)
		del, upd := some(ins/10), some(ins)
		live := ins - del
		seqScan, idxScan := some(1e5), some(1e8)
		num(seqScan)
		ts(seqScan > 0)
		num(seqScan * live)
		num(idxScan)
		ts(idxScan > 0)
		num(idxScan * some(10))
		num(ins)
		num(upd)
		num(del)
		num(some(upd))
		num(some(upd / 10))
		num(live)
		num(some(live / 20))
		num(some(live / 10))
		num(some(ins / 10))
		for range 4 { // last_(auto)vacuum, last_(auto)analyze
			ts(r.IntN(3) > 0)
		}
		for range 4 { // vacuum and analyze counts
			num(some(1e3))
		}
		for range 4 { // total_*_time
			fmt.Fprintf(&b, "\t%.3f", r.Float64()*1e5)
		}
		heap := live/50 + 1
		num(some(heap))
		num(some(heap * 100))
		num(some(heap / 3))
		num(some(heap * 30))
		b.WriteString("\t0\t0\t0\t0\n")
	}
	return b.Bytes()
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// tablesBatch is a realistic rows batch of about size bytes.
func tablesBatch(size int) Batch {
	data := tablesCopyText(size, 1)
	return Batch{ID: BatchID(7, "pg_stat_all_tables", 99, "app"), Kind: KindRows, ConnectionID: 7,
		Probe: "pg_stat_all_tables", Database: "app", CollectedAt: time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC),
		Parts: 1, Rows: bytes.Count(data, []byte{'\n'}), Hash: "9f86d081884c7d65",
		Columns: []string{"connection_id", "collected_at", "relid", "schemaname", "relname"}, Data: data}
}

func TestCompressedBatchRoundTrip(t *testing.T) {
	for name, tc := range map[string]struct {
		bt         Batch
		compressed bool
	}{
		"large":          {tablesBatch(256 << 10), true},
		"just enough":    {tablesBatch(compressMinBytes), true},
		"small":          {rowsBatch("1.p.1", 200, 100), false},
		"status":         {Batch{ID: "1.p.1", Kind: KindStatus, Probe: "p", Parts: 1, Reason: "boom", CollectedAt: time.Unix(0, 0).UTC()}, false},
		"incompressible": {noiseBatch("1.p.2", 64<<10), false},
	} {
		t.Run(name, func(t *testing.T) {
			m := EncodeBatch(tc.bt)
			if tc.compressed {
				require.Equal(t, "s2", m.Header.Get("Pgc-Encoding"))
				require.Equal(t, "2", m.Header.Get("Pgc-V"))
				require.Less(t, len(m.Data), len(tc.bt.Data))
			} else {
				require.Empty(t, m.Header.Get("Pgc-Encoding"))
				require.Equal(t, "1", m.Header.Get("Pgc-V"), "a build without compression reads it")
				require.Equal(t, len(tc.bt.Data), len(m.Data))
			}
			got, err := DecodeBatch(m.Data, m.Header)
			require.NoError(t, err)
			require.Equal(t, tc.bt, got)
		})
	}
}

// noiseBatch is a rows batch of size bytes, rows of 200 random bytes that
// s2 cannot shrink, the same for the same id: tests that count stored
// bytes use it.
func noiseBatch(id string, size int) Batch {
	r := rand.New(rand.NewPCG(uint64(len(id)), uint64(crc32.ChecksumIEEE([]byte(id)))))
	data := make([]byte, size+8)
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], r.Uint64())
	}
	data = data[:size]
	rows := 0
	for i, c := range data {
		if c == '\n' {
			data[i] = ' '
		}
		if i%200 == 199 || i == size-1 {
			data[i] = '\n'
			rows++
		}
	}
	return Batch{ID: id, Kind: KindRows, ConnectionID: 1, Probe: "p", Parts: 1, Rows: rows, Columns: []string{"x"},
		CollectedAt: time.Unix(0, 0).UTC(), Data: data}
}

// TestCompressionRatio measures s2 on realistic COPY text by size, which
// is what compressMinBytes was chosen from. s2 finds repeats but has no
// entropy coder, so the unique digits of large counters stay as they are:
// this text shrinks about 1.7x, real output of PostgreSQL 15 about 4x
// (pg_stat_all_tables 4.2x, pg_stat_all_indexes 4.0x, pg_settings 3.3x).
func TestCompressionRatio(t *testing.T) {
	for _, size := range []int{256, 512, 1 << 10, 4 << 10, 64 << 10, 256 << 10, 4 << 20} {
		data := tablesCopyText(size, 2)
		fast, better := len(s2.Encode(nil, data)), len(s2.EncodeBetter(nil, data))
		t.Logf("%8d bytes: s2 %.2fx, s2 better %.2fx", len(data),
			float64(len(data))/float64(fast), float64(len(data))/float64(better))
		if size >= 64<<10 {
			require.Greater(t, float64(len(data))/float64(fast), 1.5, "realistic COPY text shrinks")
		}
	}
}

func TestDecodeBatchRejectsBadBodies(t *testing.T) {
	m := EncodeBatch(tablesBatch(16 << 10))
	require.Equal(t, "s2", m.Header.Get("Pgc-Encoding"))
	bomb := []byte{0x80, 0x80, 0x80, 0x80, 0x04, 0} // a varint length of 1 GiB
	for name, tc := range map[string]struct {
		encoding string
		body     []byte
		want     string
	}{
		"unknown encoding": {"zstd", m.Data, `unknown encoding "zstd"`},
		"truncated":        {"s2", m.Data[:len(m.Data)/2], "s2 body: s2: corrupt input"},
		"garbage":          {"s2", []byte("1\t2\t3\n"), "s2 body"},
		"empty":            {"s2", nil, "s2 body"},
		"bomb":             {"s2", bomb, "claims 1073741824 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			h := nats.Header{}
			for k, v := range m.Header {
				h[k] = v
			}
			h.Set("Pgc-Encoding", tc.encoding)
			_, err := DecodeBatch(tc.body, h)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestDecodeVersion1Message reads a message exactly as builds before
// compression wrote it: such messages wait in users' buffers.
func TestDecodeVersion1Message(t *testing.T) {
	h := nats.Header{}
	for k, v := range map[string]string{
		"Pgc-V": "1", "Pgc-Id": "7.pg_stat_all_tables.99.app", "Pgc-Kind": "rows", "Pgc-Connection": "7",
		"Pgc-Probe": "pg_stat_all_tables", "Pgc-Database": "app", "Pgc-Collected-At": "2026-01-05T10:00:00.123456789Z",
		"Pgc-Part": "0", "Pgc-Parts": "1", "Pgc-Rows": "2", "Pgc-Columns": "connection_id,collected_at,n",
		"Pgc-Hash": "ab", "Nats-Msg-Id": "7.pg_stat_all_tables.99.app#0",
	} {
		h.Set(k, v)
	}
	body := []byte("7\t2026-01-05 10:00:00.123456+00\t1\n7\t2026-01-05 10:00:00.123456+00\t2\n")
	got, err := DecodeBatch(body, h)
	require.NoError(t, err)
	require.Equal(t, Batch{ID: "7.pg_stat_all_tables.99.app", Kind: KindRows, ConnectionID: 7, Probe: "pg_stat_all_tables",
		Database: "app", CollectedAt: time.Date(2026, 1, 5, 10, 0, 0, 123456789, time.UTC), Part: 0, Parts: 1, Rows: 2,
		Columns: []string{"connection_id", "collected_at", "n"}, Hash: "ab", Data: body}, got)
}

// The codec's cost on a realistic 256 KiB batch, the size of a
// pg_stat_all_tables result of a database with about a thousand tables.
func BenchmarkEncodeBatch256K(b *testing.B) {
	bt := tablesBatch(256 << 10)
	b.SetBytes(int64(len(bt.Data)))
	b.ReportAllocs()
	var wire int
	for b.Loop() {
		wire = len(EncodeBatch(bt).Data)
	}
	b.ReportMetric(float64(len(bt.Data))/float64(wire), "ratio")
}

func BenchmarkDecodeBatch256K(b *testing.B) {
	bt := tablesBatch(256 << 10)
	m := EncodeBatch(bt)
	b.SetBytes(int64(len(bt.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(m.Data, m.Header); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkS2Better is what s2.EncodeBetter would cost instead of
// s2.Encode, for the record of why EncodeBatch uses the fast one.
func BenchmarkS2Better(b *testing.B) {
	data := tablesCopyText(256<<10, 1)
	dst := make([]byte, s2.MaxEncodedLen(len(data)))
	b.SetBytes(int64(len(data)))
	var n int
	for b.Loop() {
		n = len(s2.EncodeBetter(dst, data))
	}
	b.ReportMetric(float64(len(data))/float64(n), "ratio")
}
