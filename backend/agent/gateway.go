package agent

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/tunnel"
)

// gateway is the agent's WireGuard gateway, or why it is not running: the
// platform works without it, only tunnel commands fail.
type gateway struct {
	g   *tunnel.Gateway
	err error
}

// startGateway brings the WireGuard gateway up on loopback.
func (a *Agent) startGateway() {
	g, err := tunnel.StartGateway(tunnel.GatewayConfig{Dir: a.cfg.Home, Directory: directory{a}, Log: a.log})
	if err != nil {
		a.log.Error("wireguard gateway not started: tunnel commands will fail", "err", err)
	}
	a.gateway = gateway{g: g, err: err}
}

func (a *Agent) stopGateway() {
	if a.gateway.g != nil {
		a.gateway.g.Close()
	}
}

func (a *Agent) gw() (*tunnel.Gateway, error) {
	if a.gateway.g == nil {
		return nil, fmt.Errorf("the wireguard gateway is not running (%v): see the agent log", a.gateway.err)
	}
	return a.gateway.g, nil
}

// directory is the platform as the gateway sees it: the same names as the
// agent's .internal DNS, answered with machines.
type directory struct{ a *Agent }

func (d directory) Machines() []tunnel.Machine {
	d.a.mu.Lock()
	defer d.a.mu.Unlock()
	var out []tunnel.Machine
	for _, c := range d.a.state.Clusters {
		for _, m := range c.Machines {
			if ip, err := netip.ParseAddr(m.IP); err == nil {
				out = append(out, tunnel.Machine{ID: m.ID, Org: orgOf(c), Addr: ip})
			}
		}
	}
	return out
}

func (d directory) Lookup(name string) ([]tunnel.Machine, bool) {
	ips, ok := d.a.resolve(name)
	if !ok {
		return nil, false
	}
	byIP := map[netip.Addr]tunnel.Machine{}
	for _, m := range d.Machines() {
		byIP[m.Addr] = m
	}
	var out []tunnel.Machine
	for _, s := range ips {
		if ip, err := netip.ParseAddr(s); err == nil {
			if m, ok := byIP[ip]; ok {
				out = append(out, m)
			}
		}
	}
	return out, len(out) > 0
}

func orgOf(c *Cluster) string { return orDefault(c.Org, "personal") }

// NewPeer is the reply to a peer's creation: its config holds the private
// key, which the agent does not keep.
type NewPeer = api.NewPeer

// PeerRequest creates a peer.
type PeerRequest = api.PeerRequest

// ConnectInfo is how the local user reaches a cluster as its superuser.
// The API socket is the owner's only, as is the secrets file it reads.
type ConnectInfo = api.ConnectInfo

func (a *Agent) tunnelRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/wireguard/peers", func(r *http.Request) (any, error) {
		g, err := a.gw()
		if err != nil {
			return nil, err
		}
		return g.Peers()
	})
	h("POST /v1/wireguard/peers", func(r *http.Request) (any, error) {
		var req PeerRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return a.addPeer(req)
	})
	h("DELETE /v1/wireguard/peers/{peer}", func(r *http.Request) (any, error) {
		g, err := a.gw()
		if err != nil {
			return nil, err
		}
		return nil, peerError(g.RemovePeer(r.PathValue("peer")))
	})
	h("GET /v1/clusters/{name}/connect", func(r *http.Request) (any, error) { return a.connectInfo(r.PathValue("name")) })
}

func (a *Agent) addPeer(req PeerRequest) (*NewPeer, error) {
	req.Org, req.Region = orDefault(req.Org, "personal"), orDefault(req.Region, "iad")
	if err := tunnel.ValidatePeerName(req.Name); err != nil {
		return nil, badRequest(err)
	}
	if err := backend.ValidateName(req.Org); err != nil {
		return nil, badRequest(fmt.Errorf("org: %w", err))
	}
	if _, err := backend.LookupRegion(req.Region); err != nil {
		return nil, badRequest(err)
	}
	g, err := a.gw()
	if err != nil {
		return nil, err
	}
	p, cfg, err := g.AddPeer(req.Name, req.Org, req.Region)
	if err != nil {
		return nil, peerError(err)
	}
	return &NewPeer{Peer: api.Peer(p), Config: cfg.String()}, nil
}

// peerError gives the gateway's errors their HTTP status.
func peerError(err error) error {
	switch {
	case errors.Is(err, tunnel.ErrNoPeer):
		return apiError{http.StatusNotFound, err}
	case errors.Is(err, tunnel.ErrPeerExists):
		return apiError{http.StatusConflict, err}
	}
	return err
}

func (a *Agent) connectInfo(name string) (*ConnectInfo, error) {
	c, _, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	pw, err := readSecret(a.cfg.Home, name, "PGTUI_SUPERUSER_PASSWORD")
	if err != nil {
		return nil, err
	}
	ci := &ConnectInfo{Cluster: name, Org: orgOf(&c), Host: name + ".internal", Port: 5432, User: "postgres", Password: pw, Database: "postgres"}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(ci.User, pw), Host: fmt.Sprintf("%s:%d", ci.Host, ci.Port), Path: "/" + ci.Database}
	ci.URL = u.String()
	return ci, nil
}
