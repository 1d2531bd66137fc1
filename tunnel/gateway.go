package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Machine is what the gateway needs to know of a machine.
type Machine struct {
	ID   string
	Org  string
	Addr netip.Addr // its real address, where its ports listen
}

// Directory is the platform as the gateway sees it.
type Directory interface {
	// Lookup resolves an .internal name (lower case, no trailing dot) to
	// machines; ok is false for a name that does not exist.
	Lookup(name string) (machines []Machine, ok bool)
	// Machines lists every machine.
	Machines() []Machine
}

// GatewayConfig configures StartGateway.
type GatewayConfig struct {
	Dir       string     // holds wireguard.json
	Listen    netip.Addr // UDP address; default 127.0.0.1
	Directory Directory
	Log       *slog.Logger
}

// Errors the API maps to statuses.
var (
	ErrNoPeer     = errors.New("no such wireguard peer")
	ErrPeerExists = errors.New("wireguard peer exists")
)

// DialTimeout bounds the gateway's connection to a machine.
const DialTimeout = 5 * time.Second

// Gateway is the WireGuard endpoint of the private networks.
type Gateway struct {
	cfg      GatewayConfig
	log      *slog.Logger
	path     string
	key      wgtypes.Key
	endpoint netip.AddrPort

	tun *stackDevice
	dev *device.Device

	ctx    context.Context // ends on Close
	cancel context.CancelFunc

	mu       sync.Mutex // guards everything below
	st       *gatewayState
	networks map[string]Network
	servers  []*dns.Server
	conns    map[*splice]struct{}
	closed   bool
}

// StartGateway loads (or creates) the gateway's state and brings its
// WireGuard device up.
func StartGateway(cfg GatewayConfig) (*Gateway, error) {
	if !cfg.Listen.IsValid() {
		cfg.Listen = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	path := filepath.Join(cfg.Dir, StoreFile)
	st, err := loadState(path, cfg.Listen)
	if err != nil {
		return nil, err
	}
	key, _ := wgtypes.ParseKey(st.PrivateKey) // checked by loadState
	tun, err := newStackDevice(nil, true)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{cfg: cfg, log: cfg.Log.With("component", "wireguard"), path: path, key: key,
		endpoint: netip.AddrPortFrom(cfg.Listen, uint16(st.Port)), tun: tun, ctx: ctx, cancel: cancel,
		st: st, networks: map[string]Network{}, conns: map[*splice]struct{}{}}
	fwd := tcp.NewForwarder(tun.stack, 0, 1024, g.forward)
	tun.stack.SetTransportProtocolHandler(tcp.ProtocolNumber, fwd.HandlePacket)
	if err := g.start(); err != nil {
		g.Close()
		return nil, err
	}
	g.log.Info("wireguard gateway up", "endpoint", g.endpoint, "public_key", key.PublicKey().String(), "peers", len(st.Peers))
	return g, nil
}

func (g *Gateway) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for org, s := range g.st.Networks {
		n, err := ParseNetwork(s)
		if err != nil {
			return fmt.Errorf("wireguard state %s: org %s: %w", g.path, org, err)
		}
		if err := g.addNetworkLocked(org, n); err != nil {
			return err
		}
	}
	g.dev = device.NewDevice(g.tun, newBind(g.cfg.Listen), deviceLogger(g.log))
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%s\nlisten_port=%d\n", HexKey(g.key), g.st.Port)
	for _, p := range g.st.Peers {
		k, err := wgtypes.ParseKey(p.PublicKey)
		if err != nil {
			return fmt.Errorf("wireguard state %s: peer %s: %w", g.path, p.Name, err)
		}
		fmt.Fprintf(&b, "public_key=%s\nallowed_ip=%s\n", HexKey(k), netip.PrefixFrom(p.Address, 128))
	}
	if err := g.dev.IpcSet(b.String()); err != nil {
		return fmt.Errorf("configure wireguard gateway: %w", err)
	}
	if err := g.dev.Up(); err != nil {
		return fmt.Errorf("wireguard gateway on %s: %w", g.endpoint, err)
	}
	return nil
}

func deviceLogger(log *slog.Logger) *device.Logger {
	return &device.Logger{
		Verbosef: func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
		Errorf:   func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
	}
}

// Endpoint is the UDP address peers send to.
func (g *Gateway) Endpoint() netip.AddrPort { return g.endpoint }

// PublicKey is the gateway's public key.
func (g *Gateway) PublicKey() wgtypes.Key { return g.key.PublicKey() }

// Close stops the device, the DNS servers and every forwarded connection.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	servers := g.servers
	for c := range g.conns {
		c.close()
	}
	g.mu.Unlock()
	g.cancel()
	for _, s := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.ShutdownContext(ctx)
		cancel()
	}
	if g.dev != nil {
		g.dev.Close() // closes the stack device too
	} else {
		g.tun.Close()
	}
	return nil
}

// Network is an org's private network, created on first use.
func (g *Gateway) Network(org string) (Network, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.networkLocked(org)
}

func (g *Gateway) networkLocked(org string) (Network, error) {
	if n, ok := g.networks[org]; ok {
		return n, nil
	}
	n, err := NewNetwork()
	if err != nil {
		return Network{}, err
	}
	g.st.Networks[org] = n.String()
	if err := g.st.save(g.path); err != nil {
		delete(g.st.Networks, org)
		return Network{}, err
	}
	return n, g.addNetworkLocked(org, n)
}

// addNetworkLocked gives the stack the network's gateway and DNS
// addresses and starts its DNS server.
func (g *Gateway) addNetworkLocked(org string, n Network) error {
	for _, a := range []netip.Addr{n.Gateway(), n.DNS()} {
		if err := g.tun.addAddr(a); err != nil {
			return err
		}
	}
	servers, err := g.serveDNS(org, n)
	if err != nil {
		return err
	}
	g.servers = append(g.servers, servers...)
	g.networks[org] = n
	return nil
}

var peerNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidatePeerName keeps peer names usable as file names and DNS labels.
func ValidatePeerName(name string) error {
	if !peerNameRE.MatchString(name) {
		return fmt.Errorf("wireguard peer name %q is not valid: use 1-63 lower-case letters, digits and '-', not at either end", name)
	}
	return nil
}

// AddPeer creates a peer of org's network and returns it with its config,
// the only place its private key ever appears.
func (g *Gateway) AddPeer(name, org, region string) (Peer, Config, error) {
	if err := ValidatePeerName(name); err != nil {
		return Peer{}, Config{}, err
	}
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return Peer{}, Config{}, fmt.Errorf("wireguard key: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, p := g.st.peer(name); p != nil {
		return Peer{}, Config{}, fmt.Errorf("%w: %s already exists (remove it first with `pgtui wireguard remove %s`)", ErrPeerExists, name, name)
	}
	n, err := g.networkLocked(org)
	if err != nil {
		return Peer{}, Config{}, err
	}
	g.st.NextPeer[org]++
	p := Peer{Name: name, Org: org, Region: region, PublicKey: key.PublicKey().String(), Address: n.Peer(g.st.NextPeer[org]), Created: time.Now().UTC()}
	uapi := fmt.Sprintf("public_key=%s\nallowed_ip=%s\n", HexKey(key.PublicKey()), netip.PrefixFrom(p.Address, 128))
	if err := g.dev.IpcSet(uapi); err != nil {
		return Peer{}, Config{}, fmt.Errorf("add wireguard peer %s: %w", name, err)
	}
	g.st.Peers = append(g.st.Peers, p)
	if err := g.st.save(g.path); err != nil {
		g.st.Peers = g.st.Peers[:len(g.st.Peers)-1]
		_ = g.dev.IpcSet(fmt.Sprintf("public_key=%s\nremove=true\n", HexKey(key.PublicKey())))
		return Peer{}, Config{}, err
	}
	cfg := Config{PrivateKey: key, Address: netip.PrefixFrom(p.Address, 128), DNS: n.DNS(), PeerPublicKey: g.key.PublicKey(),
		AllowedIPs: []netip.Prefix{n.Prefix}, Endpoint: g.endpoint, Keepalive: Keepalive}
	g.log.Info("wireguard peer added", "name", name, "org", org, "address", p.Address)
	return p, cfg, nil
}

// RemovePeer deletes a peer from the device and the store: it can no
// longer complete a handshake, and its sessions end at once.
func (g *Gateway) RemovePeer(name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	i, p := g.st.peer(name)
	if p == nil {
		return fmt.Errorf("%w: %s (see `pgtui wireguard list`)", ErrNoPeer, name)
	}
	k, err := wgtypes.ParseKey(p.PublicKey)
	if err != nil {
		return fmt.Errorf("wireguard peer %s: %w", name, err)
	}
	if err := g.dev.IpcSet(fmt.Sprintf("public_key=%s\nremove=true\n", HexKey(k))); err != nil {
		return fmt.Errorf("remove wireguard peer %s: %w", name, err)
	}
	g.st.Peers = append(g.st.Peers[:i], g.st.Peers[i+1:]...)
	if err := g.st.save(g.path); err != nil {
		return err
	}
	g.log.Info("wireguard peer removed", "name", name)
	return nil
}

// Peers lists the peers with their traffic, sorted by name.
func (g *Gateway) Peers() ([]PeerStatus, error) {
	text, err := g.dev.IpcGet()
	if err != nil {
		return nil, fmt.Errorf("read wireguard device: %w", err)
	}
	stats := parseStats(text)
	g.mu.Lock()
	out := make([]PeerStatus, 0, len(g.st.Peers))
	for _, p := range g.st.Peers {
		ps := PeerStatus{Peer: p}
		if k, err := wgtypes.ParseKey(p.PublicKey); err == nil {
			s := stats[HexKey(k)]
			ps.Endpoint, ps.LastHandshake, ps.RxBytes, ps.TxBytes = s.Endpoint, s.LastHandshake, s.RxBytes, s.TxBytes
		}
		out = append(out, ps)
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
