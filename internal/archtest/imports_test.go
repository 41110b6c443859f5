package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/pgcollector/pgcollector"

// stagePackages are the stage roots; none may import another.
var stagePackages = []string{"stages/scheduler", "stages/fetcher", "sink", "retention"}

// imports maps each package directory (relative to the module root) to the
// project packages its non-test files import.
func imports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if out[rel] == nil {
			out[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == module || strings.HasPrefix(p, module+"/") {
				out[rel][strings.TrimPrefix(strings.TrimPrefix(p, module), "/")] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out["cmd/pgcollector"], "the walk must find the project")
	return out
}

func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

func TestImportDirection(t *testing.T) {
	deps := imports(t)
	for pkg, imps := range deps {
		for imp := range imps {
			if under(pkg, "probes") || under(pkg, "bus") {
				t.Errorf("%s imports %s: probes and bus must import no project package", pkg, imp)
			}
			for _, s := range stagePackages {
				// bench/ measures the stages the way cmd/ composes them.
				if under(imp, s) && !under(pkg, s) && !under(pkg, "cmd") && !under(pkg, "bench") {
					t.Errorf("%s imports stage %s: only cmd/ (and bench/) may compose stages", pkg, imp)
				}
			}
		}
	}
}
