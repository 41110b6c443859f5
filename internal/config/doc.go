// Package config loads the settings of every package's Config struct from
// four layers — the `default` struct tags, a flat YAML file, PGC_*
// environment variables (through envconfig) and command-line flags, each
// overriding the one before — and prints the effective configuration with
// secrets redacted. Settings are named once, by their envconfig tag; the
// YAML key is that name in lower case and the flag is it in kebab case.
package config
