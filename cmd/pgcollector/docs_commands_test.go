package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// documents are README.md and every file under docs/, relative to the
// repository root.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	out := []string{"README.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(repoRoot, d)
		require.NoError(t, err)
		out = append(out, rel)
	}
	return out
}

var (
	fence      = regexp.MustCompile("(?ms)^```(\\w*)\\n(.*?)^```")
	inlineCode = regexp.MustCompile("`([^`\n]+)`")
	helpFlag   = regexp.MustCompile(`(?m)^  -([\w-]+)`)
	makeTarget = regexp.MustCompile(`(?m)^([\w-]+):`)
)

// shellCommands returns the commands of a document's shell blocks and its
// inline `pgcollector ...` spans: continuation lines joined, pipelines and
// lists split, comments dropped.
func shellCommands(doc string) []string {
	var lines []string
	for _, m := range fence.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains([]string{"sh", "bash", "console", ""}, m[1]) || m[1] == "" && !strings.Contains(m[2], "pgcollector ") {
			continue
		}
		lines = append(lines, strings.Split(strings.ReplaceAll(m[2], "\\\n", " "), "\n")...)
	}
	// Inline spans, outside the blocks.
	for _, m := range inlineCode.FindAllStringSubmatch(fence.ReplaceAllString(doc, ""), -1) {
		if strings.HasPrefix(m[1], "pgcollector ") {
			lines = append(lines, strings.ReplaceAll(m[1], `\|`, "|"))
		}
	}
	var out []string
	for _, line := range lines {
		line, _, _ = strings.Cut(line, " # ")
		line = strings.NewReplacer("[", " ", "]", " ", "(", " ", ")", " ", "<<<", " ").Replace(line)
		for _, list := range regexp.MustCompile(`&&|;|\s&\s|\s&$`).Split(line, -1) {
			var parts []string
			for _, p := range strings.Split(list, " | ") {
				// "--a X | --b Y" is a choice of flags, not a pipeline.
				if len(parts) > 0 && strings.HasPrefix(strings.TrimSpace(p), "-") {
					parts[len(parts)-1] += " " + p
					continue
				}
				parts = append(parts, p)
			}
			for _, p := range parts {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// pgcollectorArgs returns the words after the pgcollector binary in cmd,
// or false when cmd does not run it: the binary must be the command word,
// after any sudo, env or VAR=value words, or follow a "--".
func pgcollectorArgs(cmd string) ([]string, bool) {
	words := strings.Fields(strings.NewReplacer("'", "", `"`, "").Replace(cmd))
	prefix := true
	for i, w := range words {
		if (prefix || words[i-1] == "--") && (w == "pgcollector" || strings.HasSuffix(w, "bin/pgcollector")) {
			return words[i+1:], true
		}
		prefix = prefix && (w == "sudo" || w == "env" || strings.Contains(w, "="))
	}
	return nil, false
}

// TestDocumentedCommandsExist checks every pgcollector command that
// README.md and docs/ show: its subcommand exists and each flag it uses is
// one that subcommand accepts (read from its --help), and every make
// target they name is in the Makefile. The quick start is also run for
// real, by TestReadmeQuickStart.
func TestDocumentedCommandsExist(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	require.NoError(t, err)
	var targets []string
	for _, m := range makeTarget.FindAllStringSubmatch(string(makefile), -1) {
		targets = append(targets, m[1])
	}
	helps := map[string][]string{}
	checked := 0
	for _, rel := range documents(t) {
		raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
		require.NoError(t, err)
		for _, cmd := range shellCommands(string(raw)) {
			if words := strings.Fields(cmd); len(words) >= 2 && words[0] == "make" {
				for _, target := range words[1:] {
					if !strings.Contains(target, "=") && !strings.HasPrefix(target, "-") {
						require.Contains(t, targets, target, "%s: make %s", rel, target)
					}
				}
				continue
			}
			args, ok := pgcollectorArgs(cmd)
			if !ok || len(args) == 0 {
				continue
			}
			sub := subcommand(args)
			if _, seen := helps[sub]; !seen {
				code, _, errOut := runCLI(t, "", append(strings.Fields(sub), "--help")...)
				if code != 0 { // a command that needs its NAME argument first
					code, _, errOut = runCLI(t, "", append(strings.Fields(sub), "NAME", "--help")...)
				}
				require.Equal(t, 0, code, "%s: %q is not a command: %s", rel, sub, errOut)
				var flags []string
				for _, m := range helpFlag.FindAllStringSubmatch(errOut, -1) {
					flags = append(flags, m[1])
				}
				helps[sub] = flags
			}
			for _, w := range args {
				if name, isFlag := strings.CutPrefix(w, "--"); isFlag && name != "" {
					name, _, _ = strings.Cut(name, "=")
					require.True(t, slices.Contains(helps[sub], name), "%s: `pgcollector %s` has no flag --%s (in %q)", rel, sub, name, cmd)
				}
			}
			checked++
		}
	}
	t.Logf("%d documented pgcollector commands checked", checked)
	require.Greater(t, checked, 30, "the documents show many pgcollector commands")
}

// subcommand is the command word of args, with the second word for the
// commands that have their own subcommands; a list of alternatives
// ("add|list") stands for its first.
func subcommand(args []string) string {
	first := func(w string) string { a, _, _ := strings.Cut(w, "|"); return a }
	sub := first(args[0])
	if slices.Contains([]string{"connection", "probe", "user", "token"}, sub) && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		sub += " " + first(args[1])
	}
	return sub
}
