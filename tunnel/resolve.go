package tunnel

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Resolve looks a name up in the tunnel's DNS and returns its IPv6
// addresses. A name without a dot is taken as <name>.internal.
func (c *Client) Resolve(ctx context.Context, name string) ([]netip.Addr, error) {
	if !strings.Contains(name, ".") {
		name += ".internal"
	}
	r, err := c.Query(ctx, name, dns.TypeAAAA)
	if err != nil {
		return nil, err
	}
	if r.Rcode == dns.RcodeNameError {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchHost, name)
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("resolve %s: %s", name, dns.RcodeToString[r.Rcode])
	}
	var out []netip.Addr
	for _, rr := range r.Answer {
		if aaaa, ok := rr.(*dns.AAAA); ok {
			if a, ok := netip.AddrFromSlice(aaaa.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no address (no machine runs there)", ErrNoSuchHost, name)
	}
	return out, nil
}

// Query asks the tunnel's DNS server one question. A query that goes
// unanswered is checked against the handshake and tried once more.
func (c *Client) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, err := c.exchange(ctx, m)
	if err == nil {
		return r, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, ctx.Err())
	}
	if herr := c.check(ctx); herr != nil {
		return nil, herr
	}
	if r, err = c.exchange(ctx, m); err != nil {
		return nil, fmt.Errorf("resolve %s: the tunnel's DNS server %s did not answer: %w", name, c.cfg.DNS, err)
	}
	return r, nil
}

// exchange sends one query over UDP inside the tunnel.
func (c *Client) exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	fa := tcpip.FullAddress{NIC: nicID, Addr: tcpipAddr(c.cfg.DNS), Port: DNSPort}
	pc, err := gonet.DialUDP(c.tun.stack, nil, &fa, ipv6.ProtocolNumber)
	if err != nil {
		return nil, fmt.Errorf("dns socket: %w", err)
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	co := &dns.Conn{Conn: pc}
	deadline := time.Now().Add(dnsTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = pc.SetDeadline(deadline)
	m.Id = dns.Id()
	if err := co.WriteMsg(m); err != nil {
		return nil, fmt.Errorf("dns query: %w", err)
	}
	for {
		r, err := co.ReadMsg()
		if err != nil {
			return nil, fmt.Errorf("dns answer: %w", err)
		}
		if r.Id == m.Id {
			return r, nil
		}
	}
}
