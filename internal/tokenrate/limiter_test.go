package tokenrate_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/tokenrate"
)

// A token's burst is allowed, the next request is refused with a wait of
// whole seconds, and another token's budget is untouched.
func TestBudgetIsPerToken(t *testing.T) {
	l, err := tokenrate.New(0.25, 3)
	require.NoError(t, err)
	for i := range 3 {
		ok, _ := l.Allow(1)
		require.True(t, ok, "request %d of the burst", i+1)
	}
	ok, wait := l.Allow(1)
	require.False(t, ok)
	require.GreaterOrEqual(t, wait, 3, "at 0.25/s the next request is about 4 s away")
	require.LessOrEqual(t, wait, 4)
	ok, _ = l.Allow(2)
	require.True(t, ok, "another token is unaffected")

	h := http.Header{}
	tokenrate.Refuse(h, wait)
	require.NotEmpty(t, h.Get("Retry-After"))
	tokenrate.Refuse(h, 0)
	require.Equal(t, "1", h.Get("Retry-After"))
}

func TestNewRefusesNonsense(t *testing.T) {
	_, err := tokenrate.New(0, 1)
	require.Error(t, err)
	_, err = tokenrate.New(1, 0)
	require.Error(t, err)
}
