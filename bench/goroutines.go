package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Waits tallies where the fetcher's probe runs were when sampled: the
// collector's CPU profile says what costs CPU, this says what the runs
// wait for (session, server, bus), which bounds how many jobs the fixed
// number of workers finish per second.
type Waits struct {
	Samples int
	Total   int            // fetcher runs seen over all samples
	Sites   map[string]int // "innermost library call ← innermost pgcollector frame" → runs
}

// SampleWaits reads the goroutine dump of the collector's profiling
// overlay n times, every interval.
func SampleWaits(ctx context.Context, pprofAddr string, n int, every time.Duration) Waits {
	w := Waits{Sites: map[string]int{}}
	for i := 0; i < n; i++ {
		if i > 0 && !sleepCtx(ctx, every) {
			break
		}
		if err := w.sample(ctx, pprofAddr); err == nil {
			w.Samples++
		}
	}
	return w
}

func (w *Waits) sample(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	count := 0
	var frames []string
	flush := func() {
		if count > 0 && containsFrame(frames, "fetcher.(*Fetcher).handle") {
			w.Total += count
			w.Sites[waitSite(frames)] += count
		}
		count, frames = 0, nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, " @ 0x"):
			flush()
			count, _ = strconv.Atoi(strings.Fields(line)[0])
		case strings.HasPrefix(line, "#\t"):
			f := strings.Fields(line)
			if len(f) >= 3 {
				frames = append(frames, f[2][:strings.LastIndex(f[2], "+")])
			}
		}
	}
	flush()
	return sc.Err()
}

func containsFrame(frames []string, s string) bool {
	for _, f := range frames {
		if strings.Contains(f, s) {
			return true
		}
	}
	return false
}

// waitSite names a stack by its innermost frame outside the runtime and
// the standard library, and its innermost pgcollector frame.
func waitSite(frames []string) string {
	lib, own := "", ""
	for _, f := range frames {
		if lib == "" && strings.Contains(f, ".com/") && !strings.Contains(f, "pgcollector/pgcollector") {
			lib = f
		}
		if strings.Contains(f, "pgcollector/pgcollector/") {
			own = f
			break
		}
	}
	short := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	switch {
	case own == "":
		return "?"
	case lib == "":
		return short(own)
	}
	return short(lib) + " ← " + short(own)
}

// Lines reports the sites, most frequent first.
func (w Waits) Lines() []string {
	if w.Total == 0 {
		return nil
	}
	sites := make([]string, 0, len(w.Sites))
	for s := range w.Sites {
		sites = append(sites, s)
	}
	sort.Slice(sites, func(i, j int) bool { return w.Sites[sites[i]] > w.Sites[sites[j]] })
	out := []string{fmt.Sprintf("%d samples, %.1f probe runs in flight on average (PGC_FETCHER_WORKERS bounds them)",
		w.Samples, float64(w.Total)/float64(max(1, w.Samples)))}
	for i, s := range sites {
		if i == 12 {
			break
		}
		out = append(out, fmt.Sprintf("%5.1f%%  %s", 100*float64(w.Sites[s])/float64(w.Total), s))
	}
	return out
}
