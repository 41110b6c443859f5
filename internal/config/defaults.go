package config

import "fmt"

// ApplyDefaults sets every field of target (a pointer to a Config struct)
// that declares a default tag to that default. The tags are the one place
// where defaults are written: the loader applies them the same way.
func ApplyDefaults(target any) error {
	settings, err := walk(target)
	if err != nil {
		return err
	}
	for _, s := range settings {
		if s.Default == "" {
			continue
		}
		if err := s.set(s.Default); err != nil {
			return fmt.Errorf("config: bad default for %s: %w", s.Env(), err)
		}
	}
	return nil
}

// Default returns a T with its declared defaults applied, for tests and
// for callers that build a configuration in code. A default that does not
// parse is a programming error, found by the first test that loads it.
func Default[T any]() T {
	var v T
	if err := ApplyDefaults(&v); err != nil {
		panic(err)
	}
	return v
}
