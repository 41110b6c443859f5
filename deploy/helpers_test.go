package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/pgcollector/pgcollector/internal/e2e"
)

// stages are the values `run --stages` takes, one per process here.
var stages = []string{"scheduler", "fetcher", "sink", "retention"}

// pgcImage is the image every pgcollector container runs.
const pgcImage = "ghcr.io/pgcollector/pgcollector:latest"

// settings are the variables `pgcollector config` prints, read once by
// TestMain from the binary built from this tree.
var settings map[string]bool

func TestMain(m *testing.M) {
	var err error
	settings, err = configVariables()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy tests:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

var configLine = regexp.MustCompile(`(?m)^(PGC_[A-Z0-9_]+)=`)

// configVariables builds pgcollector and lists the variables its config
// subcommand documents.
func configVariables() (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "pgc-deploy-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := e2e.Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "config")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // only defaults, no PGC_* of the caller
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pgcollector config: %w", err)
	}
	vars := map[string]bool{}
	for _, m := range configLine.FindAllStringSubmatch(string(out), -1) {
		vars[m[1]] = true
	}
	if len(vars) < 20 {
		return nil, fmt.Errorf("pgcollector config printed only %d variables:\n%s", len(vars), out)
	}
	return vars, nil
}

// requireSetting fails unless name is a documented setting.
func requireSetting(t *testing.T, where, name string) {
	t.Helper()
	require.True(t, settings[name], "%s sets %s, which `pgcollector config` does not know", where, name)
}

// goMod returns the go directive's major.minor and the required version
// of the nats-server module.
func goMod(t *testing.T) (goVersion, natsServer string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	g := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
	n := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\S+)`).FindSubmatch(b)
	require.NotNil(t, g, "go directive in go.mod")
	require.NotNil(t, n, "nats-server requirement in go.mod")
	return string(g[1]), string(n[1])
}

// yamlDocs decodes every document of a YAML file into generic maps.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, path)
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// at walks a decoded YAML value along keys (strings) and list indexes
// (ints) and returns what it finds, or nil.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// str is at() as a string, "" when absent; numbers print as they read.
func str(v any, path ...any) string {
	switch x := at(v, path...).(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// list is at() as a list, nil when absent.
func list(v any, path ...any) []any {
	l, _ := at(v, path...).([]any)
	return l
}

// strs turns a list of scalars into strings.
func strs(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// keys returns a map's keys, sorted.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stageOf reads the stage from `run --stages X` arguments.
func stageOf(args []string) string {
	if len(args) == 3 && args[0] == "run" && args[1] == "--stages" {
		return args[2]
	}
	return ""
}

// natsHosts returns the host names of a comma-separated PGC_NATS_URL.
func natsHosts(url string) []string {
	var out []string
	for _, u := range strings.Split(url, ",") {
		u = strings.TrimPrefix(strings.TrimSpace(u), "nats://")
		host, _, _ := strings.Cut(u, ":")
		out = append(out, host)
	}
	return out
}
