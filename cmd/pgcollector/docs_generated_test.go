package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

// repoRoot is the module root, seen from this package's directory.
var repoRoot = filepath.Join("..", "..")

// generatedSection requires the text between <!-- name:begin --> and
// <!-- name:end --> of the document at rel (from the repository root) to
// be want, or rewrites it with PGC_UPDATE_DOCS=1.
func generatedSection(t *testing.T, rel, name, want string) {
	t.Helper()
	path := filepath.Join(repoRoot, rel)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(raw)
	beginMark, endMark := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	begin, end := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	require.True(t, begin >= 0 && end > begin, "%s must hold %s ... %s", rel, beginMark, endMark)
	section := beginMark + "\n" + want + endMark
	if os.Getenv("PGC_UPDATE_DOCS") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(doc[:begin]+section+doc[end+len(endMark):]), 0o644))
		return
	}
	require.Equal(t, section, doc[begin:end+len(endMark)], "%s's %s section is out of date: run "+
		"PGC_UPDATE_DOCS=1 go test ./cmd/pgcollector -run 'TestProbeTable|TestSettingsTable'", rel, name)
}

// TestSettingsTable keeps docs/configuration.md's list of settings equal
// to what the binary declares: every variable, its file key, flag,
// default and meaning.
func TestSettingsTable(t *testing.T) {
	var s settings
	l, err := config.New(s.targets()...)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("| variable | file key / flag | default | meaning |\n|---|---|---|---|\n")
	for _, st := range l.Settings() {
		def := "empty"
		if st.Default != "" {
			def = "`" + st.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` / `--%s` | %s | %s |\n", st.Env(), st.YAMLKey(), st.Flag(), def,
			strings.ReplaceAll(st.Desc, "|", `\|`))
	}
	generatedSection(t, filepath.Join("docs", "configuration.md"), "settings", b.String())
}
