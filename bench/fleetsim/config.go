package fleetsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is what the simulator serves.
type Config struct {
	Listen    string     // address to listen on, e.g. 127.0.0.1:0
	StatsAddr string     // address of the /stats endpoint ("" for none)
	Password  string     // the password every simulated server accepts (SCRAM-SHA-256); "" for trust
	Upstreams []Upstream // real clusters, one per major
	// RecheckAfter is how long after the first recording the second one
	// is taken, which finds the counters.
	RecheckAfter time.Duration
	Faults       map[string]Fault // by server number ("17")
}

// Upstream is a real cluster the recordings come from.
type Upstream struct {
	Major    int
	Host     string
	Port     int
	User     string
	Password string
}

// Fault is a misbehaviour of one simulated server.
type Fault struct {
	Kind FaultKind
	// Delay is how long a COPY statement takes on a slow server; the
	// session's statement_timeout still applies, as on PostgreSQL.
	Delay time.Duration
	// Relation is the view an ErrorRelation server lacks: statements
	// whose text names it fail with 42P01.
	Relation string
}

// FaultKind names a fault.
type FaultKind string

// The faults a simulated server can play.
const (
	FaultRefuseLogin   FaultKind = "refuse-login"   // password authentication failed (28P01)
	FaultSlow          FaultKind = "slow"           // COPY statements take Fault.Delay
	FaultDropMidCopy   FaultKind = "drop-mid-copy"  // the connection closes half way through COPY data
	FaultErrorRelation FaultKind = "error-relation" // statements naming Fault.Relation fail: relation does not exist
)

// ServerName is the user name that selects simulated server n.
func ServerName(n int) string { return fmt.Sprintf("sim-%05d", n) }

// serverNumber parses a ServerName.
func serverNumber(user string) (int, bool) {
	s, ok := strings.CutPrefix(user, "sim-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func (c Config) validate() error {
	if len(c.Upstreams) == 0 {
		return fmt.Errorf("fleetsim: no upstream cluster to record from")
	}
	for k, f := range c.Faults {
		if _, err := strconv.Atoi(k); err != nil {
			return fmt.Errorf("fleetsim: fault for %q: want a server number", k)
		}
		switch f.Kind {
		case FaultRefuseLogin, FaultDropMidCopy:
		case FaultSlow:
			if f.Delay <= 0 {
				return fmt.Errorf("fleetsim: slow fault for server %s: no delay", k)
			}
		case FaultErrorRelation:
			if f.Relation == "" {
				return fmt.Errorf("fleetsim: error-relation fault for server %s: no relation", k)
			}
		default:
			return fmt.Errorf("fleetsim: fault for server %s: unknown kind %q", k, f.Kind)
		}
	}
	return nil
}
