package api

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenAPIMatchesRoutes: openapi.json documents exactly the routes the
// handler serves, and every operation documents 401.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			require.Contains(t, op.Responses, "401", "%s %s", method, path)
		}
	}
	a := &API{}
	var served []string
	for _, rt := range a.routes() {
		served = append(served, rt.Method+" "+rt.Pattern)
	}
	sort.Strings(documented)
	sort.Strings(served)
	require.Equal(t, served, documented)
}
