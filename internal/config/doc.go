// Package config loads the settings of every package's Config struct from
// four layers — the `default` struct tags, a flat YAML file, PGC_*
// environment variables and command-line flags, each overriding the one
// before — and prints the effective configuration with secrets redacted.
//
// Settings are declared once, by struct tags in the envconfig convention
// (`envconfig:"NAME" default:"..." desc:"..."`): the variable is PGC_NAME,
// the YAML key is NAME in lower case and the flag is it in kebab case.
// Every layer's text goes through one parser (Setting.set), so a value
// means the same whichever layer it comes from; the envconfig library
// itself is not used, because it reads only the process environment and
// parses integers in base 0 ("010" is 8), which a file or a flag did not.
package config
