package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// snapshot is the on-disk copy of the cache. Passwords in it are the
// encrypted values of the datastore, never plaintext.
type snapshot struct {
	SavedAt     time.Time     `json:"saved_at"`
	Connections []Connection  `json:"connections"`
	Probes      []ProbeConfig `json:"probes"`
}

// body is the part of a snapshot that matters for change detection.
func (s snapshot) body() snapshot { s.SavedAt = time.Time{}; return s }

// save writes the cache to path atomically (write, fsync, rename), so a
// collector restarted while the datastore is down starts from the
// configuration it last saw instead of collecting nothing.
func (c *Cache) save() error {
	if c.file == "" {
		return nil
	}
	c.mu.RLock()
	s := snapshot{SavedAt: c.loadedAt}
	for _, x := range c.conns {
		s.Connections = append(s.Connections, x)
	}
	for _, p := range c.probes {
		s.Probes = append(s.Probes, p)
	}
	c.mu.RUnlock()
	slices.SortFunc(s.Connections, func(a, b Connection) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Probes, func(a, b ProbeConfig) int { return cmp.Compare(a.Name, b.Name) })
	raw, err := json.Marshal(s.body())
	if err != nil {
		return err
	}
	if bytes.Equal(raw, c.saved) {
		return nil
	}
	c.saved = raw
	raw, err = json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
		return err
	}
	tmp := c.file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, c.file)
}

// loadFile fills an empty cache from the saved copy. It is used only when
// the datastore cannot be reached at start.
func (c *Cache) loadFile() error {
	raw, err := os.ReadFile(c.file)
	if err != nil {
		return err
	}
	var s snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("saved configuration %s: %w", c.file, err)
	}
	cm := make(map[int64]Connection, len(s.Connections))
	for _, x := range s.Connections {
		cm[x.ID] = x
	}
	pm := make(map[string]ProbeConfig, len(s.Probes))
	for _, p := range s.Probes {
		pm[p.Name] = p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return nil
	}
	c.conns, c.probes, c.loadedAt, c.loaded = cm, pm, s.SavedAt, true
	c.version++
	close(c.ready)
	return nil
}
