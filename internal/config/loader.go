package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration error: it names the setting at fault, so the
// command can exit 2 with one line a user can act on.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Msg }

// Errorf returns an *Error for the named setting.
func Errorf(setting, format string, args ...any) error {
	return &Error{Setting: setting, Msg: fmt.Sprintf(format, args...)}
}

// IsConfigError reports whether err is (or wraps) a configuration error.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Loader fills a set of Config structs from the four layers.
type Loader struct {
	targets  []any
	settings []Setting
	byYAML   map[string]int
	flagSet  map[string]*string
}

// New walks the targets (pointers to Config structs) and collects their
// settings. Two targets must not declare the same setting.
func New(targets ...any) (*Loader, error) {
	l := &Loader{targets: targets, byYAML: map[string]int{}}
	for _, t := range targets {
		ss, err := walk(t)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if _, dup := l.byYAML[s.YAMLKey()]; dup {
				return nil, fmt.Errorf("config: setting %s declared twice", s.Env())
			}
			l.byYAML[s.YAMLKey()] = len(l.settings)
			l.settings = append(l.settings, s)
		}
	}
	return l, nil
}

// Settings lists every setting in declaration order.
func (l *Loader) Settings() []Setting { return l.settings }

// Load applies defaults, then the YAML file at path (when not empty), then
// the environment, then the flags registered with RegisterFlags.
func (l *Loader) Load(path string) error {
	if err := l.applyDefaults(); err != nil {
		return err
	}
	if path != "" {
		if err := l.applyYAML(path); err != nil {
			return err
		}
	}
	if err := l.applyEnv(); err != nil {
		return err
	}
	return l.applyFlags()
}

func (l *Loader) applyDefaults() error {
	for _, t := range l.targets {
		if err := ApplyDefaults(t); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loader) applyYAML(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Errorf("PGC_CONFIG", "cannot read %s: %v", path, err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Errorf("PGC_CONFIG", "%s is not a YAML mapping: %v", path, err)
	}
	for key, node := range doc {
		i, ok := l.byYAML[strings.ToLower(key)]
		if !ok {
			return Errorf("PGC_CONFIG", "%s: unknown setting %q", path, key)
		}
		s := l.settings[i]
		text := node.Value
		if node.Kind == yaml.SequenceNode {
			var items []string
			if err := node.Decode(&items); err != nil {
				return Errorf(s.Env(), "in %s: %v", path, err)
			}
			text = strings.Join(items, ",")
		} else if node.Kind != yaml.ScalarNode {
			return Errorf(s.Env(), "in %s: expected a single value", path)
		}
		if err := s.set(text); err != nil {
			return Errorf(s.Env(), "in %s: %v", path, err)
		}
	}
	return nil
}

// applyEnv applies every PGC_* variable that is set, parsed by the same
// rules as the file and the flags. An unset variable leaves the value that
// came from the file; a variable set to the empty string empties it.
func (l *Loader) applyEnv() error {
	for _, s := range l.settings {
		text, set := os.LookupEnv(s.Env())
		if !set {
			continue
		}
		if err := s.set(text); err != nil {
			return Errorf(s.Env(), "invalid value %q: %v", text, err)
		}
	}
	return nil
}

// RegisterFlags adds one string flag per setting to fs, e.g. --data-dir for
// PGC_DATA_DIR. Only flags given on the command line are applied.
func (l *Loader) RegisterFlags(fs *flag.FlagSet) {
	l.flagSet = map[string]*string{}
	for _, s := range l.settings {
		if fs.Lookup(s.Flag()) != nil {
			continue
		}
		l.flagSet[s.Flag()] = fs.String(s.Flag(), "", s.Desc+" (env "+s.Env()+")")
	}
}

func (l *Loader) applyFlags() error {
	for _, s := range l.settings {
		p, ok := l.flagSet[s.Flag()]
		if !ok || *p == "" {
			continue
		}
		if err := s.set(*p); err != nil {
			return Errorf(s.Env(), "flag --%s: %v", s.Flag(), err)
		}
	}
	return nil
}
