package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// step bounds one Do or Eval: a page that never answers fails the test
// with what it waited for instead of hanging it.
const step = 45 * time.Second

// Browser is one headless Chromium tab driven over the DevTools protocol,
// for tests that type and click. It records what a page must never do:
// throw an uncaught exception or break its Content-Security-Policy.
type Browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// Launch starts Chromium with the flags of Render (the same binary, no
// network beyond the page's server, a profile of its own) and opens one
// tab. Both are closed when the test ends.
func Launch(t testing.TB) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(Binary)}
	for _, f := range flags(t) {
		name, value, ok := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser and binds it to ctx: no timeout
	// here, or the timeout would end the browser (see chromedp.Run). A
	// driven window's viewport is smaller than --window-size, so it is
	// set to the window of Render: RequirePage holds for both.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, height)), "start chromium")
	b.ctx = ctx
	return b
}

// listen runs in the tab's event loop: it must return at once.
func (b *Browser) listen(ev any) {
	var problem string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		problem = "uncaught exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			problem += " " + e.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if e.Entry.Source == log.EntrySourceSecurity || strings.Contains(e.Entry.Text, "Content Security Policy") {
			problem = "security: " + e.Entry.Text
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// Problems are the uncaught exceptions and policy violations seen so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Do runs the steps in order, failing the test with what on error.
func (b *Browser) Do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...), "%s; page text:\n%s", what, b.text())
}

// Eval evaluates a JavaScript expression and decodes its value.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// WaitFor polls a JavaScript expression until it is truthy.
func (b *Browser) WaitFor(t testing.TB, what, expr string) {
	t.Helper()
	b.Do(t, "wait for "+what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(step-5*time.Second),
		chromedp.WithPollingInterval(100*time.Millisecond)))
}

// Screenshot saves the viewport as dir/name (and to PGC_TEST_ARTIFACTS)
// for RequirePage, and returns its path.
func (b *Browser) Screenshot(t testing.TB, dir, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err, "screenshot")
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	keep(t, path)
	return path
}

// text is the page's visible text, for a failure message.
func (b *Browser) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return tail(s, 3000)
}
