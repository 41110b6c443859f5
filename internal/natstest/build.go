package natstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// serverPackage is the nats-server main package. go.mod lists it as a
// tool, so `go mod tidy` keeps what it needs and the build works offline
// from the module cache.
const serverPackage = "github.com/nats-io/nats-server/v2"

// Build compiles nats-server into dir and returns the binary's path. It
// runs in the module root, so the version is the one go.mod requires.
func Build(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "nats-server")
	// Tests may run with a PATH that lacks go; the Makefile's install is
	// the fallback, as in internal/e2e.
	goBin := "go"
	if _, err := exec.LookPath("go"); err != nil && fileExists("/usr/local/go/bin/go") {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, serverPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", serverPackage, err, b)
	}
	return out, nil
}

// moduleRoot finds the directory holding go.mod above the current one.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the current directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
