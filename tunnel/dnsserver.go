package tunnel

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// DNSTTL is the TTL of .internal answers: machines come and go.
const DNSTTL = 5

// serveDNS starts UDP and TCP DNS servers on n's DNS address inside the
// stack; they answer .internal names with the private addresses of org's
// machines. The servers stop with Shutdown.
func (g *Gateway) serveDNS(org string, n Network) ([]*dns.Server, error) {
	fa := tcpip.FullAddress{NIC: nicID, Addr: tcpipAddr(n.DNS()), Port: DNSPort}
	pc, err := gonet.DialUDP(g.tun.stack, &fa, nil, ipv6.ProtocolNumber)
	if err != nil {
		return nil, fmt.Errorf("dns on %s: %w", n.DNS(), err)
	}
	ln, err := gonet.ListenTCP(g.tun.stack, fa, ipv6.ProtocolNumber)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("dns on %s (tcp): %w", n.DNS(), err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { _ = w.WriteMsg(g.answer(org, n, r)) })
	servers := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, s := range servers {
		go func() { _ = s.ActivateAndServe() }() // ends on Shutdown (Close)
	}
	return servers, nil
}

// answer resolves the questions of r for org: AAAA records of the
// machines' private addresses; a name that exists has no A records.
func (g *Gateway) answer(org string, n Network, r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	for _, q := range r.Question {
		name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
		addrs, ok := g.lookup(org, n, name)
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if q.Qtype != dns.TypeAAAA && q.Qtype != dns.TypeANY {
			continue
		}
		for _, a := range addrs {
			m.Answer = append(m.Answer, &dns.AAAA{
				Hdr:  dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: DNSTTL},
				AAAA: net.IP(a.AsSlice()),
			})
		}
	}
	return m
}

// lookup resolves a name to the private addresses of org's machines.
func (g *Gateway) lookup(org string, n Network, name string) ([]netip.Addr, bool) {
	if !strings.HasSuffix(name, ".internal") {
		return nil, false
	}
	ms, ok := g.cfg.Directory.Lookup(name)
	if !ok {
		return nil, false
	}
	var out []netip.Addr
	for _, m := range ms {
		if m.Org == org {
			out = append(out, n.Machine(m.ID))
		}
	}
	return out, len(out) > 0
}
