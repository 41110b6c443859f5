package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Watch reads the collector's streams through its embedded NATS server
// (PGC_NATS_LISTEN): how many jobs wait for fetchers and how many batches
// for sinks. Nothing is consumed; only consumer and stream info is read.
type Watch struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// NewWatch connects to the collector's NATS server, waiting for it.
func NewWatch(ctx context.Context, addr string) (*Watch, error) {
	for {
		nc, err := nats.Connect("nats://"+addr, nats.Name("bench-watch"), nats.MaxReconnects(-1))
		if err == nil {
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				return nil, err
			}
			return &Watch{nc: nc, js: js}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to the collector's NATS at %s: %w", addr, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close disconnects.
func (w *Watch) Close() { w.nc.Close() }

// Backlog is a durable consumer's messages not yet delivered and
// delivered but not yet acknowledged.
type Backlog struct {
	Pending, AckPending uint64
	AckFloor            uint64 // every stream sequence up to it is acknowledged
}

// Total is everything the consumer still has to settle.
func (b Backlog) Total() uint64 { return b.Pending + b.AckPending }

// Backlog reads a consumer's info.
func (w *Watch) Backlog(ctx context.Context, stream, consumer string) (Backlog, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := w.js.Consumer(ctx, stream, consumer)
	if err != nil {
		return Backlog{}, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return Backlog{}, err
	}
	return Backlog{Pending: info.NumPending, AckPending: uint64(info.NumAckPending), AckFloor: info.AckFloor.Stream}, nil
}

// StreamState reads a stream's state: stored bytes, last sequence.
func (w *Watch) StreamState(ctx context.Context, stream string) (jetstream.StreamState, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := w.js.Stream(ctx, stream)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	return info.State, nil
}

// StreamBytes is the stored size of a stream.
func (w *Watch) StreamBytes(ctx context.Context, stream string) (uint64, error) {
	st, err := w.StreamState(ctx, stream)
	return st.Bytes, err
}

// Scrape reads the exposition at http://addr/metrics once and sums every
// series of each metric; a metric given with its labels, as the
// exposition spells them (name{label="value"}), is that one series. A
// metric without series reads 0 and is not in found: a labelled counter
// has none until its first event.
func Scrape(ctx context.Context, addr string, metrics ...string) (sums map[string]float64, found map[string]bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sums, found = sumMetrics(resp.Body, metrics...)
	return sums, found, nil
}

// sumMetrics adds up the samples of each metric in a text exposition.
func sumMetrics(r io.Reader, metrics ...string) (sums map[string]float64, found map[string]bool) {
	sums, found = map[string]float64{}, map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, metric := range metrics {
			rest, ok := strings.CutPrefix(line, metric)
			// After the name: the labels or the value; after a name
			// given with its labels: the value only.
			next := "{ "
			if strings.HasSuffix(metric, "}") {
				next = " "
			}
			if !ok || (rest != "" && !strings.ContainsRune(next, rune(rest[0]))) {
				continue
			}
			if strings.HasPrefix(rest, "{") {
				rest = rest[strings.LastIndexByte(rest, '}')+1:]
			}
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				sums[metric] += v
				found[metric] = true
			}
		}
	}
	return sums, found
}

// LogCounts are what the collector logged in a time range, from its JSON
// log: stale job drops, and lines by level.
type LogCounts struct {
	Stale  int
	Warn   int
	Error  int
	Sample []string // a few of the warnings and errors, for the report
}

// CountLog reads the collector's JSON log and counts the lines logged in
// [from, to).
func CountLog(path string, from, to time.Time) (LogCounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return LogCounts{}, err
	}
	defer f.Close()
	var lc LogCounts
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var l struct {
			Time  time.Time `json:"time"`
			Level string    `json:"level"`
			Msg   string    `json:"msg"`
			Err   string    `json:"err"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Time.Before(from) || !l.Time.Before(to) {
			continue
		}
		if strings.HasPrefix(l.Msg, "stale job dropped") {
			lc.Stale++
		}
		switch l.Level {
		case "WARN":
			lc.Warn++
		case "ERROR":
			lc.Error++
		default:
			continue
		}
		key := l.Level + " " + l.Msg
		if !seen[key] && len(lc.Sample) < 8 {
			seen[key] = true
			lc.Sample = append(lc.Sample, truncate(key+": "+l.Err, 200))
		}
	}
	return lc, sc.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
