package proxy

import "sync/atomic"

// Stats are the proxy's counters, for metrics.
type Stats struct {
	Active            int64  // connections registered and not yet finished
	Accepted          uint64 // every accepted client, refused ones included
	BytesIn, BytesOut uint64 // client->leader, leader->client; added when a direction ends
	Closed            uint64 // let-in connections that have finished, failed dials included
	Refused           uint64 // closed at once: no leader, fenced or shutting down
}

type counters struct {
	active                                       atomic.Int64
	accepted, bytesIn, bytesOut, closed, refused atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	s := &p.stats
	return Stats{
		Active:   s.active.Load(),
		Accepted: s.accepted.Load(),
		BytesIn:  s.bytesIn.Load(),
		BytesOut: s.bytesOut.Load(),
		Closed:   s.closed.Load(),
		Refused:  s.refused.Load(),
	}
}
