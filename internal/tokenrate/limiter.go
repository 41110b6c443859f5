package tokenrate

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter keeps one token bucket per API token id. Buckets are created on
// first use and kept: tokens are few (people and their tools), and a
// forgotten bucket would hand a revoked-then-reused id a fresh burst.
type Limiter struct {
	perSecond rate.Limit
	burst     int

	mu      sync.Mutex
	buckets map[int64]*rate.Limiter
}

// New returns a limiter of perSecond sustained requests and burst at once
// per token; the settings' own Validate names them for the operator, this
// only guards against a wiring mistake.
func New(perSecond float64, burst int) (*Limiter, error) {
	if perSecond <= 0 || burst < 1 {
		return nil, fmt.Errorf("tokenrate: rate %g and burst %d must be positive", perSecond, burst)
	}
	return &Limiter{perSecond: rate.Limit(perSecond), burst: burst, buckets: map[int64]*rate.Limiter{}}, nil
}

// Allow spends one request of token's budget. When the budget is spent it
// returns false and the whole seconds until the next request would be
// allowed (at least 1), for Retry-After; nothing is spent then, so a
// client hammering a refusal does not push its own recovery further out.
func (l *Limiter) Allow(token int64) (bool, int) {
	l.mu.Lock()
	b, ok := l.buckets[token]
	if !ok {
		b = rate.NewLimiter(l.perSecond, l.burst)
		l.buckets[token] = b
	}
	l.mu.Unlock()
	now := time.Now()
	res := b.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	if wait == 0 {
		return true, 0
	}
	res.CancelAt(now)
	return false, int(math.Ceil(wait.Seconds()))
}

// Refuse writes the Retry-After header of a 429 for a wait of seconds.
func Refuse(h http.Header, seconds int) {
	h.Set("Retry-After", strconv.Itoa(max(seconds, 1)))
}
