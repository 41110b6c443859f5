package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Binary is where Debian's chromium package puts the browser.
const Binary = "/usr/bin/chromium"

// Window is the viewport of every run: width × height.
const (
	Window = "1280,900"
	width  = 1280
	height = 900
)

// budget is the virtual time the page gets to fetch its JSON and draw:
// headless Chromium dumps or shoots once it has passed, and virtual time
// does not advance while requests are outstanding.
const budget = "10000"

// flags are the switches of every Chromium run, one-shot or driven:
// headless, no sandbox (CI runs as root), nothing fetched from the
// Internet (the machines are offline), and a profile directory of its
// own, so runs share nothing and leave nothing behind.
func flags(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("browsertest: %s not found: run `make deps` (installs Debian's chromium package)", Binary)
	}
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(t.TempDir(), "profile"),
		"--window-size=" + Window,
	}
}

// run starts Chromium once on url with the given mode flags and returns
// its standard output.
func run(t testing.TB, url string, mode ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(append(flags(t), "--virtual-time-budget="+budget), mode...)
	cmd := exec.CommandContext(ctx, Binary, append(args, url)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, err, "chromium %v:\n%s", mode, tail(errOut.String(), 2000))
	return out.Bytes()
}

// Render loads url once and returns the DOM after the page's script ran,
// and the path of a PNG screenshot saved as dir/name. One browser run
// does both: Chromium is the slowest part of the tests that use it. With
// PGC_TEST_ARTIFACTS set, a copy of the screenshot goes to that
// directory too, for CI or a developer to look at.
func Render(t testing.TB, url, dir, name string) (dom, screenshot string) {
	t.Helper()
	screenshot = filepath.Join(dir, name)
	dom = string(run(t, url, "--dump-dom", "--screenshot="+screenshot))
	keep(t, screenshot)
	return dom, screenshot
}

// keep copies a screenshot to PGC_TEST_ARTIFACTS when that is set.
func keep(t testing.TB, screenshot string) {
	t.Helper()
	dir := os.Getenv("PGC_TEST_ARTIFACTS")
	if dir == "" {
		return
	}
	b, err := os.ReadFile(screenshot)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(screenshot)), b, 0o644))
}

// RequirePage checks that a screenshot is a rendered page: it decodes as
// PNG of the window's size and is not blank — some share of it differs
// from the background and it has more than a handful of colours.
func RequirePage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "screenshot %s is not a PNG", path)
	b := img.Bounds()
	require.Equal(t, width, b.Dx(), "screenshot width")
	require.Equal(t, height, b.Dy(), "screenshot height")
	bg := img.At(b.Min.X+b.Dx()/2, b.Max.Y-1)
	colours := map[[3]uint32]bool{}
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			c := img.At(x, y)
			r, g, bl, _ := c.RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if c != bg {
				differ++
			}
		}
	}
	total := (b.Dx() / 2) * (b.Dy() / 2)
	require.Greater(t, len(colours), 20, "screenshot has only %d colours: blank page?", len(colours))
	require.Greater(t, float64(differ)/float64(total), 0.05, "screenshot is almost all background")
	return img
}

// Colour counts the pixels of img close to the given colour (each channel
// within 24), to check that a state colour appears on the page.
func Colour(img image.Image, r, g, b uint8) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr>>8, r) && near(cg>>8, g) && near(cb>>8, b) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint8) bool {
	d := int(a) - int(b)
	return d > -24 && d < 24
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// Colours counts the distinct colours inside r of img: a drawn table or
// form has dozens (text is anti-aliased), an empty box one or two.
func Colours(img image.Image, r image.Rectangle) int {
	seen := map[[3]uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[[3]uint32{cr >> 8, cg >> 8, cb >> 8}] = true
		}
	}
	return len(seen)
}
