package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// anchor is GitHub's id for a heading: lower case, punctuation dropped,
// spaces as dashes.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(title)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocLinksResolveInsideTheRepository follows every relative link of
// README.md and docs/: the file must exist inside the repository and a
// #fragment must name one of its headings. Links to the web are left
// alone; a link that climbs out of the repository fails.
func TestDocLinksResolveInsideTheRepository(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	links := 0
	for _, rel := range documents(t) {
		raw, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		text := fence.ReplaceAllString(string(raw), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			file := filepath.Join(root, rel)
			if path != "" {
				file = filepath.Join(filepath.Dir(file), path)
			}
			inside, err := filepath.Rel(root, file)
			require.NoError(t, err)
			require.False(t, strings.HasPrefix(inside, ".."), "%s links outside the repository: %s", rel, target)
			info, err := os.Stat(file)
			require.NoError(t, err, "%s: broken link %s", rel, target)
			if frag != "" {
				require.False(t, info.IsDir(), "%s: %s", rel, target)
				body, err := os.ReadFile(file)
				require.NoError(t, err)
				var anchors []string
				for _, h := range heading.FindAllStringSubmatch(fence.ReplaceAllString(string(body), ""), -1) {
					anchors = append(anchors, anchor(h[1]))
				}
				require.Contains(t, anchors, frag, "%s: %s names no heading of %s", rel, target, path)
			}
			links++
		}
	}
	require.Greater(t, links, 10)
}
