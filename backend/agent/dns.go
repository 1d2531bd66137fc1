package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/pgtui/pgtui/internal/freeport"
)

// dnsServer answers .internal names for the platform's machines:
// <app>.internal, <region>.<app>.internal, <id>.vm.<app>.internal and
// leader.<app>.internal.
type dnsServer struct {
	addr     string
	udp, tcp *dns.Server
}

func startDNS(a *Agent) (*dnsServer, error) {
	pc, ln, err := listenUDPTCP(a.host())
	if err != nil {
		return nil, err
	}
	addr := pc.LocalAddr().String()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { a.serveDNS(w, r) })
	s := &dnsServer{addr: addr, udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: ln, Handler: h}}
	go func() { _ = s.udp.ActivateAndServe() }() // stopped by stop()
	go func() { _ = s.tcp.ActivateAndServe() }()
	if err := writeAtomic(a.cfg.Home+"/dns.addr", []byte(addr), 0o644, false); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// listenUDPTCP binds UDP and TCP on the same free port of host, below the
// ephemeral range (see freeport); another picker may take it between the
// pick and the bind, so it tries a few.
func listenUDPTCP(host string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for i := 0; i < 20; i++ {
		port, err := freeport.Both(host)
		if err != nil {
			return nil, nil, fmt.Errorf("dns port: %w", err)
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			lastErr = err
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("dns listen: %w", lastErr)
}

func (s *dnsServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.udp.ShutdownContext(ctx)
	_ = s.tcp.ShutdownContext(ctx)
}

func (a *Agent) serveDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	for _, q := range r.Question {
		ips, ok := a.resolve(strings.ToLower(strings.TrimSuffix(q.Name, ".")))
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if q.Qtype != dns.TypeA && q.Qtype != dns.TypeANY {
			continue // the name exists, but has only A records
		}
		for _, ip := range ips {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
				A:   net.ParseIP(ip),
			})
		}
	}
	_ = w.WriteMsg(m)
}

// resolve maps an .internal name to machine addresses.
func (a *Agent) resolve(name string) ([]string, bool) {
	rest, ok := strings.CutSuffix(name, ".internal")
	if !ok {
		return nil, false
	}
	labels := strings.Split(rest, ".")
	app := labels[len(labels)-1]
	a.mu.Lock()
	c := a.state.Clusters[app]
	var machines []Machine
	if c != nil {
		for _, m := range c.Machines {
			machines = append(machines, *m)
		}
	}
	a.mu.Unlock()
	if c == nil {
		return nil, false
	}
	var out []string
	switch {
	case len(labels) == 1:
		for _, m := range machines {
			out = append(out, m.IP)
		}
	case len(labels) == 2 && labels[0] == "leader":
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if leader := a.leaderID(ctx, app); leader != "" {
			for _, m := range machines {
				if m.ID == leader {
					out = append(out, m.IP)
				}
			}
		}
	case len(labels) == 2:
		for _, m := range machines {
			if m.Region == labels[0] {
				out = append(out, m.IP)
			}
		}
	case len(labels) == 3 && labels[1] == "vm":
		for _, m := range machines {
			if m.ID == labels[0] {
				out = append(out, m.IP)
			}
		}
	}
	return out, len(out) > 0
}
