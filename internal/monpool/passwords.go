package monpool

import "sync"

// passwords memoises decryption per stored value. Decrypting costs a
// PBKDF2 derivation (100,000 iterations); without this, a fleet's first
// minute of concurrent session opens spends most of the collector's CPU
// deriving the same keys again and again.
type passwords struct {
	mu sync.Mutex
	m  map[string]*decrypted
}

type decrypted struct {
	once sync.Once
	pw   string
	err  error
}

func (m *Manager) decrypt(stored string) (string, error) {
	p := &m.passwords
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]*decrypted{}
	}
	d := p.m[stored]
	if d == nil {
		d = &decrypted{}
		p.m[stored] = d
	}
	p.mu.Unlock()
	d.once.Do(func() { d.pw, d.err = m.box.Decrypt(stored) })
	return d.pw, d.err
}
