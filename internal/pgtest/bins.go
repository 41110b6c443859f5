package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultMajor is the major used when neither Options.Version nor $PG_BIN
// says otherwise: the one Debian installs on every machine of the project.
const DefaultMajor = 15

// defaultCache is where scripts/fetch-pg.sh puts its builds unless
// PGC_PG_CACHE says otherwise. /var/tmp survives reboots, so a machine
// fetches each build once.
const defaultCache = "/var/tmp/pgcollector/pg"

// Versions returns the majors that matrix tests run on, from the comma list
// in PGC_TEST_PG_VERSIONS (for example "14,15,16,17,18"), default [15].
//
// An entry that is not a number panics: silently dropping it would shrink
// the matrix while CI still reports green.
func Versions() []int {
	raw := strings.TrimSpace(os.Getenv("PGC_TEST_PG_VERSIONS"))
	if raw == "" {
		return []int{DefaultMajor}
	}
	var out []int
	seen := map[int]bool{}
	for _, field := range strings.Split(raw, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		major, err := strconv.Atoi(field)
		if err != nil || major < 10 {
			panic(fmt.Sprintf("pgtest: PGC_TEST_PG_VERSIONS=%q: %q is not a PostgreSQL major version", raw, field))
		}
		if !seen[major] {
			seen[major] = true
			out = append(out, major)
		}
	}
	if len(out) == 0 {
		return []int{DefaultMajor}
	}
	return out
}

// cacheDir is the root of the builds fetched by scripts/fetch-pg.sh.
func cacheDir() string {
	if dir := os.Getenv("PGC_PG_CACHE"); dir != "" {
		return dir
	}
	return defaultCache
}

// BinDir returns the directory holding initdb and postgres for a major. A
// complete build in the fetch cache wins; otherwise Debian's packaged
// binaries for that major are used if installed.
func BinDir(major int) (string, error) {
	root := filepath.Join(cacheDir(), strconv.Itoa(major))
	cached := filepath.Join(root, "native", "bin")
	// The marker is written last by fetch-pg.sh, so its presence means the
	// tree was unpacked and its symlinks recreated.
	if isFile(filepath.Join(root, ".complete")) && isFile(filepath.Join(cached, "postgres")) {
		return cached, nil
	}
	debian := fmt.Sprintf("/usr/lib/postgresql/%d/bin", major)
	if isFile(filepath.Join(debian, "postgres")) {
		return debian, nil
	}
	return "", fmt.Errorf("PostgreSQL %d binaries found neither in %s nor in %s: run scripts/fetch-pg.sh %d",
		major, cached, debian, major)
}

// binaries is what a cluster needs to know about an installation.
type binaries struct {
	major    int
	binDir   string
	shareDir string
}

// resolveBinaries picks the installation for the requested major (0: $PG_BIN
// or DefaultMajor) and checks that it really is that major.
func resolveBinaries(version int) (binaries, error) {
	var b binaries
	switch {
	case version != 0:
		dir, err := BinDir(version)
		if err != nil {
			return b, err
		}
		b.binDir = dir
	case os.Getenv("PG_BIN") != "":
		b.binDir = os.Getenv("PG_BIN")
	default:
		dir, err := BinDir(DefaultMajor)
		if err != nil {
			return b, err
		}
		b.binDir = dir
	}
	major, err := binaryMajor(b.binDir)
	if err != nil {
		return b, err
	}
	if version != 0 && major != version {
		return b, fmt.Errorf("%s holds PostgreSQL %d, want %d", b.binDir, major, version)
	}
	b.major = major
	b.shareDir, err = findShareDir(b.binDir)
	return b, err
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// binaryMajor asks the postgres binary which major it is, so that $PG_BIN
// needs no separate version variable.
func binaryMajor(binDir string) (int, error) {
	bin := filepath.Join(binDir, "postgres")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("run %s --version: %w", bin, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("parse %s --version output %q", bin, out)
	}
	return strconv.Atoi(string(m[1]))
}

// findShareDir locates the directory holding extension/ for an installation.
// Debian's has pg_config with an absolute path (/usr/share/postgresql/15);
// the relocatable npm builds have no pg_config and keep it at
// <root>/native/share/postgresql.
func findShareDir(binDir string) (string, error) {
	if pgConfig := filepath.Join(binDir, "pg_config"); isFile(pgConfig) {
		out, err := exec.Command(pgConfig, "--sharedir").Output()
		if err != nil {
			return "", fmt.Errorf("run %s --sharedir: %w", pgConfig, err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	candidates := []string{
		filepath.Join(binDir, "..", "share", "postgresql"),
		filepath.Join(binDir, "..", "share"),
	}
	for _, dir := range candidates {
		if info, err := os.Stat(filepath.Join(dir, "extension")); err == nil && info.IsDir() {
			return filepath.Clean(dir), nil
		}
	}
	return "", fmt.Errorf("no share directory with extension/ next to %s (tried %v)", binDir, candidates)
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
