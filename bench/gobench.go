package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pgcollector/pgcollector/internal/e2e"
)

// GoBench runs the hot-spot benchmarks — the bus codec's (unless
// !withBus), the sink's change-only storage and this package's — with -benchmem, profiles this package's with -cpuprofile
// into dir, and returns the result lines and the profile's top functions.
func GoBench(ctx context.Context, dir, benchtime string, withBus bool) ([]string, error) {
	root, err := e2e.ModuleRoot()
	if err != nil {
		return nil, err
	}
	var lines []string
	runs := []struct {
		pkg, pattern string
		profile      bool
	}{
		{"./bus", "Batch", false},
		{"./sink", "SinkDedup|DedupDecide", false},
		{"./bench", ".", true},
	}
	if !withBus {
		runs = runs[1:]
	}
	for _, r := range runs {
		args := []string{"test", "-run", "^$", "-bench", r.pattern, "-benchmem", "-benchtime", benchtime, "-count", "1"}
		prof := filepath.Join(dir, "gobench-cpu.pprof")
		if r.profile {
			args = append(args, "-cpuprofile", prof, "-o", filepath.Join(dir, "bench.test"))
		}
		cmd := exec.CommandContext(ctx, goTool(), append(args, r.pkg)...)
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return lines, fmt.Errorf("go test -bench %s: %v\n%s", r.pkg, err, out.String())
		}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "Benchmark") {
				lines = append(lines, l)
			}
		}
		if r.profile {
			top, err := exec.CommandContext(ctx, goTool(), "tool", "pprof", "-top", "-nodecount=12",
				filepath.Join(dir, "bench.test"), prof).CombinedOutput()
			if err == nil {
				lines = append(lines, "", "cpu profile of the ./bench benchmarks (client side):")
				lines = append(lines, pprofTop(string(top))...)
			}
		}
	}
	return lines, nil
}
