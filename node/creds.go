package node

import "sync"

// peerCreds remembers, per peer id, the credentials the user typed for that
// peer that it then accepted, for the life of the running peer (memory
// only, never written). Accounts are per PC: credentials typed for one peer
// go to that peer only. When a download looks for other sources, or a
// search asks every peer, each peer is asked with its own remembered
// credentials or as guest, never with another peer's (docs/security.md,
// H2).
type peerCreds struct {
	mu sync.Mutex
	m  map[string]Creds
	// onRemember, if set, hears of every peer whose credentials were
	// (re)remembered, outside the lock: held print jobs go then.
	onRemember func(id string)
}

// maxRememberedPeers bounds the map (an office has at most ~100 PCs).
const maxRememberedPeers = 1024

// Remember records that c worked with peer id. Guest (no account, no
// share password) is not worth remembering.
func (p *peerCreds) Remember(id string, c Creds) {
	if c == (Creds{}) {
		return
	}
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]Creds{}
	}
	if _, ok := p.m[id]; !ok && len(p.m) >= maxRememberedPeers {
		p.mu.Unlock()
		return
	}
	p.m[id] = c
	fn := p.onRemember
	p.mu.Unlock()
	if fn != nil {
		go fn(id)
	}
}

// forget drops the credentials of peer id (the peer refused them).
func (p *peerCreds) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}

// of returns the credentials that worked with peer id, or guest.
func (p *peerCreds) Of(id string) Creds {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

// Forget drops what peer id accepted: the person logged out of it.
func (p *peerCreds) Forget(id string) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}
