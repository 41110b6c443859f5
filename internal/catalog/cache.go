package catalog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Cache holds the last-known monitored connections and probe settings.
// Stages read it; Run refreshes it from the datastore. When the datastore
// is unreachable the previous copy stays in force, which is what lets
// collection go on during a datastore outage.
type Cache struct {
	q       Querier
	log     *slog.Logger
	refresh time.Duration

	mu       sync.RWMutex
	conns    map[int64]Connection
	probes   map[string]ProbeConfig
	loaded   bool
	failing  bool
	loadedAt time.Time
	version  uint64 // bumped by every load
	ready    chan struct{}
	file     string
	saved    []byte // last body written to file, to skip unchanged writes
}

// NewCache returns a cache that refreshes every refresh interval once Run
// is called. It starts nothing.
func NewCache(q Querier, log *slog.Logger, refresh time.Duration) *Cache {
	if refresh <= 0 {
		refresh = 30 * time.Second
	}
	return &Cache{q: q, log: log, refresh: refresh, ready: make(chan struct{})}
}

// PersistTo makes the cache save every successful refresh to file and, if
// the datastore is unreachable when the process starts, load from it. Call
// it before Run.
func (c *Cache) PersistTo(file string) { c.file = file }

// Run refreshes the cache until ctx ends. Failures are logged once per
// change of state, not once per attempt.
func (c *Cache) Run(ctx context.Context) error {
	t := time.NewTicker(c.refresh)
	defer t.Stop()
	for {
		c.refreshOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (c *Cache) refreshOnce(ctx context.Context) {
	if err := c.Refresh(ctx); err != nil {
		c.mu.Lock()
		first := !c.failing
		c.failing = true
		c.mu.Unlock()
		if !c.Loaded() && c.file != "" {
			if lerr := c.loadFile(); lerr == nil {
				c.log.Warn("datastore unreachable at start: using the configuration saved at the last refresh", "file", c.file)
			}
		}
		if first && ctx.Err() == nil {
			c.log.Warn("datastore unreachable: collecting with the last-known configuration",
				"err", err, "loaded", c.Loaded())
		}
		return
	}
	if err := c.save(); err != nil {
		c.log.Warn("cannot save the configuration copy", "file", c.file, "err", err)
	}
	c.mu.Lock()
	recovered := c.failing
	c.failing = false
	c.mu.Unlock()
	if recovered {
		c.log.Info("datastore reachable again: configuration refreshed")
	}
}

// Refresh reads the configuration tables now.
func (c *Cache) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conns, err := ListConnections(ctx, c.q, Filter{MonitoredOnly: true})
	if err != nil {
		return err
	}
	probes, err := ListProbes(ctx, c.q)
	if err != nil {
		return err
	}
	cm := make(map[int64]Connection, len(conns))
	for _, x := range conns {
		cm[x.ID] = x
	}
	pm := make(map[string]ProbeConfig, len(probes))
	for _, p := range probes {
		pm[p.Name] = p
	}
	c.mu.Lock()
	c.conns, c.probes, c.loadedAt = cm, pm, time.Now()
	c.version++
	if !c.loaded {
		c.loaded = true
		close(c.ready)
	}
	c.mu.Unlock()
	return nil
}

// Ready is closed once the cache has loaded for the first time.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// Loaded reports whether the cache has ever loaded.
func (c *Cache) Loaded() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.loaded
}

// Version changes whenever the cache loads, so a reader can tell that
// Connections and Probes may have changed without comparing them.
func (c *Cache) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.version
}

// Connections returns the monitored connections, in no particular order.
func (c *Cache) Connections() []Connection {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Connection, 0, len(c.conns))
	for _, x := range c.conns {
		out = append(out, x)
	}
	return out
}

// Connection returns one monitored connection by id.
func (c *Cache) Connection(id int64) (Connection, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	x, ok := c.conns[id]
	return x, ok
}

// Probes returns the probe settings by name.
func (c *Cache) Probes() map[string]ProbeConfig {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.probes
}

// Probe returns one probe's settings.
func (c *Cache) Probe(name string) (ProbeConfig, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.probes[name]
	return p, ok
}
