package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Profile is a profile of the running collector and its summary.
type Profile struct {
	Path string
	Top  []string // `go tool pprof -top` lines, heaviest first
	Err  string   // why the profile is missing or incomplete
}

// FetchProfile saves /debug/pprof/<kind> of the collector's profiling
// overlay into dir and summarises it with go tool pprof. kind is
// "profile?seconds=N" for CPU or "heap".
func FetchProfile(ctx context.Context, pprofAddr, bin, dir, name, kind string, extra ...string) Profile {
	p := Profile{Path: filepath.Join(dir, name)}
	timeout := 2 * time.Minute
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+pprofAddr+"/debug/pprof/"+kind, nil)
	if err != nil {
		p.Err = err.Error()
		return p
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.Err = fmt.Sprintf("fetch %s profile: %v", kind, err)
		return p
	}
	defer resp.Body.Close()
	f, err := os.Create(p.Path)
	if err != nil {
		p.Err = err.Error()
		return p
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.Err = err.Error()
		return p
	}
	args := append([]string{"tool", "pprof", "-top", "-nodecount=25"}, extra...)
	out, err := exec.CommandContext(ctx, goTool(), append(args, bin, p.Path)...).CombinedOutput()
	if err != nil {
		p.Err = fmt.Sprintf("go tool pprof: %v: %s", err, out)
		return p
	}
	p.Top = pprofTop(string(out))
	return p
}

// pprofTop keeps the header summary and the table of a -top report.
func pprofTop(out string) []string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "", strings.HasPrefix(t, "File:"), strings.HasPrefix(t, "Build ID:"),
			strings.HasPrefix(t, "Type:"), strings.HasPrefix(t, "Time:"):
			continue
		}
		keep = append(keep, strings.TrimRight(line, " "))
	}
	return keep
}
