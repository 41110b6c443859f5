package access

import (
	"strings"
	"unicode"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// SSLModes are the libpq sslmode values the datastore accepts.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// maxField bounds every text field: they are stored and shown on pages.
const maxField = 1024

// validateConnection checks a whole row as it will be stored, naming the
// first bad field. It runs before anything is written.
func validateConnection(c catalog.Connection) error {
	for _, f := range []struct{ name, v string }{{"name", c.Name}, {"host", c.Host}, {"database", c.Database},
		{"username", c.Username}} {
		if strings.TrimSpace(f.v) == "" {
			return invalid(f.name, "is required")
		}
	}
	for _, f := range []struct{ name, v string }{{"name", c.Name}, {"host", c.Host}, {"hostaddr", c.Hostaddr},
		{"database", c.Database}, {"username", c.Username}, {"sslcert", c.SSLCert}, {"sslkey", c.SSLKey},
		{"sslrootcert", c.SSLRootCert}} {
		if len(f.v) > maxField || strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			return invalid(f.name, "must be at most %d characters without control characters", maxField)
		}
	}
	switch {
	case strings.HasPrefix(c.Name, "-"):
		return invalid("name", "must not start with '-'")
	case c.Port < 1 || c.Port > 65535:
		return invalid("port", "must be 1..65535")
	case !oneOf(c.SSLMode, SSLModes...):
		return invalid("sslmode", "must be one of %s", strings.Join(SSLModes, ", "))
	case (c.SSLCert == "") != (c.SSLKey == ""):
		return invalid("sslkey", "sslcert and sslkey go together")
	}
	return nil
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}
