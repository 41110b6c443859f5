package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Prefix is the environment prefix of every setting.
const Prefix = "PGC"

// Setting is one configurable field, found by walking a Config struct.
type Setting struct {
	Key     string // envconfig name without prefix, e.g. DATA_DIR
	Default string
	Desc    string
	Secret  string // "", "true" (hide the value) or "url" (hide the URL's password)
	field   reflect.Value
}

// Env is the environment variable of the setting.
func (s Setting) Env() string { return Prefix + "_" + s.Key }

// YAMLKey is the key of the setting in a config file.
func (s Setting) YAMLKey() string { return strings.ToLower(s.Key) }

// Flag is the command-line flag of the setting, without dashes.
func (s Setting) Flag() string { return strings.ReplaceAll(strings.ToLower(s.Key), "_", "-") }

// Value returns the current value as text.
func (s Setting) Value() string {
	v := s.field
	if m, ok := v.Addr().Interface().(fmt.Stringer); ok && v.Kind() != reflect.String {
		return m.String()
	}
	return fmt.Sprint(v.Interface())
}

func walk(target any) ([]Setting, error) {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: %T is not a pointer to a struct", target)
	}
	var out []Setting
	v = v.Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("envconfig")
		if key == "" || key == "-" || !f.IsExported() {
			continue
		}
		out = append(out, Setting{
			Key:     key,
			Default: f.Tag.Get("default"),
			Desc:    f.Tag.Get("desc"),
			Secret:  f.Tag.Get("secret"),
			field:   v.Field(i),
		})
	}
	return out, nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// set parses text into the setting's field.
func (s Setting) set(text string) error {
	v := s.field
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(text))
	}
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 30s, 5m, 24h): %q", text)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", text)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", text)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		var parts []string
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// Type is the Go type of the setting's field.
func (s Setting) Type() reflect.Type { return s.field.Type() }
