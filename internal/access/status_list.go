package access

import (
	"context"
	"time"

	"github.com/pgcollector/pgcollector/internal/obs"
)

// Statuses is the health of every connection p may see, keyed by id: the
// same data as Status, read with one fleet report rather than one per
// connection, for listings.
func (s *Service) Statuses(ctx context.Context, p Principal) (map[int64]obs.ConnectionStatus, error) {
	cs, err := s.ListConnections(ctx, p)
	if err != nil {
		return nil, err
	}
	mine := make(map[int64]bool, len(cs))
	for _, c := range cs {
		mine[c.ID] = true
	}
	f, err := obs.LoadFleet(ctx, s.db, time.Now())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]obs.ConnectionStatus, len(cs))
	for _, c := range f.Connections {
		if mine[c.ID] {
			out[c.ID] = c
		}
	}
	return out, nil
}
