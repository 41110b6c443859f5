package config_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

type sample struct {
	DataDir  string        `envconfig:"DATA_DIR" default:"./data" desc:"data"`
	Interval time.Duration `envconfig:"TEST_INTERVAL" default:"5m" desc:"interval"`
	Workers  int           `envconfig:"TEST_WORKERS" default:"4" desc:"workers"`
	URL      string        `envconfig:"TEST_URL" secret:"url" desc:"url"`
	Token    string        `envconfig:"TEST_TOKEN" secret:"true" desc:"token"`
}

func load(t *testing.T, yamlText string, args ...string) (*sample, error) {
	t.Helper()
	var s sample
	l, err := config.New(&s)
	require.NoError(t, err)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	l.RegisterFlags(fs)
	require.NoError(t, fs.Parse(args))
	path := ""
	if yamlText != "" {
		path = filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, []byte(yamlText), 0o600))
	}
	return &s, l.Load(path)
}

func TestPrecedence(t *testing.T) {
	s, err := load(t, "")
	require.NoError(t, err)
	require.Equal(t, "./data", s.DataDir)
	require.Equal(t, 5*time.Minute, s.Interval)

	s, err = load(t, "data_dir: /from/yaml\ntest_workers: 7\n")
	require.NoError(t, err)
	require.Equal(t, "/from/yaml", s.DataDir)
	require.Equal(t, 7, s.Workers)

	t.Setenv("PGC_DATA_DIR", "/from/env")
	s, err = load(t, "data_dir: /from/yaml\ntest_workers: 7\n")
	require.NoError(t, err)
	require.Equal(t, "/from/env", s.DataDir)
	require.Equal(t, 7, s.Workers, "an unset variable must not reset the file's value")

	s, err = load(t, "data_dir: /from/yaml\n", "--data-dir", "/from/flag")
	require.NoError(t, err)
	require.Equal(t, "/from/flag", s.DataDir)
}

func TestErrorsNameTheSetting(t *testing.T) {
	_, err := load(t, "bogus: 1\n")
	require.ErrorContains(t, err, "PGC_CONFIG")
	require.ErrorContains(t, err, "bogus")

	_, err = load(t, "test_interval: soon\n")
	require.ErrorContains(t, err, "PGC_TEST_INTERVAL")

	t.Setenv("PGC_TEST_WORKERS", "many")
	_, err = load(t, "")
	require.True(t, config.IsConfigError(err))
	require.ErrorContains(t, err, "PGC_TEST_WORKERS")
}

func TestPrintRedacts(t *testing.T) {
	t.Setenv("PGC_TEST_URL", "postgres://u:canary-pw@h/db")
	t.Setenv("PGC_TEST_TOKEN", "canary-token")
	var s sample
	l, err := config.New(&s)
	require.NoError(t, err)
	require.NoError(t, l.Load(""))
	var out bytes.Buffer
	l.Print(&out)
	require.NotContains(t, out.String(), "canary")
	require.Contains(t, out.String(), "PGC_TEST_URL=postgres://u:xxxxx@h/db")
	require.Contains(t, out.String(), "PGC_DATA_DIR=./data")
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db?password=pw":             "postgres://u@h/db?password=xxxxx",
		"host=h user=u password=pw dbname=d":        "host=h user=u password=xxxxx dbname=d",
		"host=h password='p w' dbname=d":            "host=h password=xxxxx dbname=d",
		"":                                          "",
	}
	for in, want := range cases {
		require.Equal(t, want, config.RedactURL(in), in)
	}
}
