package proxy

// SetTarget installs the leader for a generation. A change of generation
// or address closes every open connection before new ones use the new
// target; a non-empty address also lifts a Fence. Targets older than the
// current generation are ignored and return false.
func (p *Proxy) SetTarget(t Target) bool {
	p.mu.Lock()
	old := p.target
	if t.Generation < old.Generation {
		p.mu.Unlock()
		p.log.Debug("proxy ignored stale target", "generation", t.Generation, "current", old.Generation)
		return false
	}
	changed := t != old
	unfence := p.fenced && t.Addr != ""
	p.target = t
	if unfence {
		p.fenced = false
	}
	n := 0
	if changed {
		n = p.closeAllLocked()
	}
	p.mu.Unlock()
	switch {
	case changed:
		p.log.Info("proxy switched", "generation", t.Generation, "addr", t.Addr,
			"from_generation", old.Generation, "from_addr", old.Addr, "closed", n, "unfenced", unfence)
	case unfence:
		p.log.Info("proxy unfenced", "generation", t.Generation, "addr", t.Addr)
	}
	return true
}

// Current returns the installed target.
func (p *Proxy) Current() Target {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// Fence closes every connection and refuses new ones until a SetTarget
// with an address: the node can no longer vouch for who the leader is.
// Idempotent; only the first call logs.
func (p *Proxy) Fence(reason string) {
	p.mu.Lock()
	was, gen := p.fenced, p.target.Generation
	p.fenced = true
	n := p.closeAllLocked()
	p.mu.Unlock()
	if !was {
		p.log.Warn("proxy fenced", "reason", reason, "generation", gen, "closed", n)
	}
}

// closeAllLocked closes and forgets every registered connection. Closing
// a socket is non-blocking, so holding mu here is cheap and makes the
// switch atomic for connections registering concurrently.
func (p *Proxy) closeAllLocked() int {
	n := len(p.conns)
	for pr := range p.conns {
		pr.close()
	}
	clear(p.conns)
	return n
}
