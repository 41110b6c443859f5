package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Load keeps the application databases of the fleet busy at a modest,
// steady rate, so that the statistics the probes read change between runs
// and pg_stat_activity shows application sessions too.
type Load struct {
	pools  []*pgxpool.Pool
	tables int
	funcs  int
	rate   float64 // statements per second over all pools
	done   atomic.Int64
	errs   atomic.Int64

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewLoad opens two sessions per application database of every cluster
// (application_name benchload).
func NewLoad(ctx context.Context, f *Fleet, rate float64) (*Load, error) {
	l := &Load{tables: f.Content.Tables, funcs: f.Content.Functions, rate: rate}
	for _, c := range f.Clusters {
		for i := 1; i <= f.Content.AppDatabases; i++ {
			cfg, err := pgxpool.ParseConfig(c.DSN(AppDatabase(i)) + "&application_name=benchload")
			if err != nil {
				return nil, err
			}
			cfg.MaxConns, cfg.MinConns = 2, 2
			p, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("load pool: %w", err)
			}
			l.pools = append(l.pools, p)
		}
	}
	return l, nil
}

// Start runs the load until Stop; it may be started again after.
func (l *Load) Start(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return
	}
	ctx, l.cancel = context.WithCancel(ctx)
	const workers = 4
	interval := time.Duration(float64(time.Second) * workers / l.rate)
	for w := range workers {
		l.wg.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				l.one(ctx, r)
			}
		})
	}
}

// one runs a random statement of the load on a random database.
func (l *Load) one(ctx context.Context, r *rand.Rand) {
	p := l.pools[r.IntN(len(l.pools))]
	var sql string
	var arg int
	if l.funcs > 0 && r.IntN(10) == 0 {
		sql, arg = fmt.Sprintf("SELECT f%d($1)", 1+r.IntN(l.funcs)), r.IntN(1000)
	} else {
		sql, arg = fmt.Sprintf(loadShapes[r.IntN(len(loadShapes))], 1+r.IntN(l.tables)), 1+r.IntN(40)
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := p.Exec(qctx, sql, arg); err != nil {
		if ctx.Err() == nil {
			l.errs.Add(1)
		}
		return
	}
	l.done.Add(1)
}

// Stop ends the load and waits for its statements to finish.
func (l *Load) Stop() {
	l.mu.Lock()
	cancel := l.cancel
	l.cancel = nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		l.wg.Wait()
	}
}

// Close stops the load and closes its pools.
func (l *Load) Close() {
	l.Stop()
	for _, p := range l.pools {
		p.Close()
	}
}

// Statements returns how many statements ran and failed so far.
func (l *Load) Statements() (done, failed int64) { return l.done.Load(), l.errs.Load() }
