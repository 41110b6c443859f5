package config

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
)

// Print writes the effective configuration, one variable a line with its
// description and default, secrets redacted.
func (l *Loader) Print(w io.Writer) {
	for _, s := range l.settings {
		fmt.Fprintf(w, "%s=%s\n", s.Env(), quote(Redacted(s)))
		desc := s.Desc
		if s.Default != "" {
			desc += " (default " + s.Default + ")"
		}
		fmt.Fprintf(w, "    # %s\n", desc)
	}
}

func quote(v string) string {
	if v == "" || strings.ContainsAny(v, " \t#'\"") {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// Redacted returns the setting's value with any secret removed.
func Redacted(s Setting) string {
	v := s.Value()
	switch s.Secret {
	case "true":
		if v != "" {
			return "<redacted>"
		}
	case "url":
		return RedactURL(v)
	}
	return v
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactURL hides the password of a PostgreSQL connection string, in URL or
// key=value form, so that it can be printed or logged.
func RedactURL(dsn string) string {
	if dsn == "" {
		return ""
	}
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "<unparseable connection string redacted>"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
