package main

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/config"
)

// sampleText is a value for a setting of type t that differs from any
// default (def is this setting's). Integers carry a leading zero: every
// layer must read them as decimal.
func sampleText(t *testing.T, typ reflect.Type, def string) string {
	switch typ {
	case reflect.TypeOf(time.Duration(0)):
		return "1m30s"
	case reflect.TypeOf(bus.ByteSize(0)):
		return "3MiB"
	}
	switch typ.Kind() {
	case reflect.String:
		return "/sample/value"
	case reflect.Bool:
		if def == "true" {
			return "false"
		}
		return "true"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "010"
	case reflect.Float64:
		return "2.5"
	case reflect.Slice:
		return "a,b"
	}
	t.Fatalf("no sample value for settings of type %s", typ)
	return ""
}

// loadLayer loads every setting with one layer holding text for key and
// returns the value that setting ends up with.
func loadLayer(t *testing.T, layer, key, text string) string {
	t.Helper()
	var s settings
	l, err := config.New(s.targets()...)
	require.NoError(t, err)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	l.RegisterFlags(fs)
	path := ""
	for _, st := range l.Settings() {
		if st.Env() != key {
			continue
		}
		switch layer {
		case "env":
			t.Setenv(st.Env(), text)
		case "yaml":
			path = filepath.Join(t.TempDir(), "c.yaml")
			require.NoError(t, os.WriteFile(path, []byte(st.YAMLKey()+": "+text+"\n"), 0o600))
		case "flag":
			require.NoError(t, fs.Parse([]string{"--" + st.Flag(), text}))
		}
	}
	require.NoError(t, l.Load(path), "%s from %s", key, layer)
	for _, st := range l.Settings() {
		if st.Env() == key {
			return st.Value()
		}
	}
	t.Fatalf("setting %s vanished", key)
	return ""
}

// TestEverySettingMeansTheSameInEveryLayer sets each setting in turn from
// the environment, the YAML file and a flag, and requires the same value
// from all three, and a value other than the default.
func TestEverySettingMeansTheSameInEveryLayer(t *testing.T) {
	var s settings
	l, err := config.New(s.targets()...)
	require.NoError(t, err)
	require.NoError(t, l.Load(""))
	defaults := map[string]string{}
	for _, st := range l.Settings() {
		defaults[st.Env()] = st.Value()
	}
	require.Greater(t, len(defaults), 30)
	for _, st := range l.Settings() {
		t.Run(st.Env(), func(t *testing.T) {
			text := sampleText(t, st.Type(), defaults[st.Env()])
			fromEnv := loadLayer(t, "env", st.Env(), text)
			require.Equal(t, fromEnv, loadLayer(t, "yaml", st.Env(), text), "YAML against environment")
			require.Equal(t, fromEnv, loadLayer(t, "flag", st.Env(), text), "flag against environment")
			require.NotEqual(t, defaults[st.Env()], fromEnv, "the sample must differ from the default")
		})
	}
}

// TestIntegersAreDecimal pins the case that once differed: envconfig read
// PGC_SINK_WORKERS=010 as octal 8, the flag as 10.
func TestIntegersAreDecimal(t *testing.T) {
	require.Equal(t, "10", loadLayer(t, "env", "PGC_SINK_WORKERS", "010"))
	require.Equal(t, "10", loadLayer(t, "flag", "PGC_SINK_WORKERS", "010"))
}
