package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// unitFile reads a systemd unit into section -> key -> values (a key may
// repeat).
func unitFile(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q is not key=value", path, line)
			require.NotEmpty(t, section, "%s: %q outside a section", path, line)
			out[section][k] = append(out[section][k], v)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestSystemdUnits checks the hardening and lifecycle settings the units
// promise, and that they set only known settings. validate.sh adds
// systemd-analyze verify where systemd is installed.
func TestSystemdUnits(t *testing.T) {
	for unit, exec := range map[string]string{
		"pgcollector.service":  "/usr/local/bin/pgcollector run",
		"pgcollector@.service": "/usr/local/bin/pgcollector run --stages %i",
	} {
		t.Run(unit, func(t *testing.T) {
			u := unitFile(t, filepath.Join("systemd", unit))
			svc := u["Service"]
			require.NotNil(t, svc)
			require.Equal(t, []string{exec}, svc["ExecStart"])
			for k, v := range map[string]string{
				"DynamicUser":              "yes",
				"ProtectSystem":            "strict",
				"Restart":                  "on-failure",
				"KillSignal":               "SIGTERM",
				"NoNewPrivileges":          "yes",
				"RestartPreventExitStatus": "2",
			} {
				require.Equal(t, []string{v}, svc[k], "%s=", k)
			}
			require.Contains(t, svc["EnvironmentFile"], "/etc/pgcollector/pgcollector.env")
			require.NotEmpty(t, svc["StateDirectory"])
			require.Regexp(t, `^\d+s$`, svc["TimeoutStopSec"][0])
			require.NotEmpty(t, u["Install"]["WantedBy"])
			for _, env := range svc["Environment"] {
				name, _, _ := strings.Cut(env, "=")
				requireSetting(t, unit, name)
			}
			// The data directory is the unit's state directory.
			require.Contains(t, svc["Environment"], "PGC_DATA_DIR=%S/"+svc["StateDirectory"][0])
		})
	}
	b, err := os.ReadFile(filepath.Join("systemd", "pgcollector.env.example"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`(?m)^#?(PGC_[A-Z0-9_]+)=`).FindAllStringSubmatch(string(b), -1) {
		requireSetting(t, "pgcollector.env.example", m[1])
	}
}
