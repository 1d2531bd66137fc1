package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/tunnel"
)

// ClientPeerFile holds this user's own WireGuard peers, one per org, that
// pgtui commands use to reach the private network (mode 0600).
const ClientPeerFile = "client-peer.json"

// Home is the agent's home this client talks to.
func (c *Client) Home() string { return c.home }

// CreatePeer adds a WireGuard peer; its config (with the private key) is
// in the reply only.
func (c *Client) CreatePeer(ctx context.Context, req api.PeerRequest) (*api.NewPeer, error) {
	var out api.NewPeer
	return &out, c.do(ctx, "POST", "/v1/wireguard/peers", req, &out)
}

// ListPeers lists the gateway's peers with their traffic.
func (c *Client) ListPeers(ctx context.Context) ([]api.PeerStatus, error) {
	var out []api.PeerStatus
	return out, c.do(ctx, "GET", "/v1/wireguard/peers", nil, &out)
}

// RemovePeer deletes a peer: it can no longer connect.
func (c *Client) RemovePeer(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/wireguard/peers/"+esc(name), nil, nil)
}

// ConnectInfo is how to reach a cluster as its superuser.
func (c *Client) ConnectInfo(ctx context.Context, cluster string) (*api.ConnectInfo, error) {
	var out api.ConnectInfo
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(cluster)+"/connect", nil, &out)
}

// clientPeers is client-peer.json.
type clientPeers struct {
	Peers map[string]clientPeer `json:"peers"` // by org
}

type clientPeer struct {
	Name   string `json:"name"`
	Config string `json:"config"` // wg-quick format
}

// TunnelConfig returns this user's peer config for org, reusing the one
// in client-peer.json while the gateway still knows it, creating (and
// saving) a new one otherwise.
func (c *Client) TunnelConfig(ctx context.Context, org string) (tunnel.Config, error) {
	path := filepath.Join(c.home, ClientPeerFile)
	st := clientPeers{Peers: map[string]clientPeer{}}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &st); err != nil || st.Peers == nil {
			st.Peers = map[string]clientPeer{} // unreadable: replace it
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return tunnel.Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	peers, err := c.ListPeers(ctx)
	if err != nil {
		return tunnel.Config{}, fmt.Errorf("list wireguard peers: %w", err)
	}
	if cp, ok := st.Peers[org]; ok {
		if cfg, err := tunnel.ParseConfig(cp.Config); err == nil && knownPeer(peers, cfg) {
			return cfg, nil
		}
	}
	np, err := c.CreatePeer(ctx, api.PeerRequest{Name: clientPeerName(), Org: org})
	if err != nil {
		return tunnel.Config{}, fmt.Errorf("create this user's wireguard peer: %w", err)
	}
	cfg, err := tunnel.ParseConfig(np.Config)
	if err != nil {
		return tunnel.Config{}, err
	}
	st.Peers[org] = clientPeer{Name: np.Peer.Name, Config: np.Config}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return tunnel.Config{}, fmt.Errorf("encode %s: %w", path, err)
	}
	return cfg, tunnel.WriteFileAtomic(path, b, 0o600)
}

func knownPeer(peers []api.PeerStatus, cfg tunnel.Config) bool {
	pub := cfg.PrivateKey.PublicKey().String()
	for _, p := range peers {
		if p.PublicKey == pub && p.Address == cfg.Address.Addr() {
			return true
		}
	}
	return false
}

var nonLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// clientPeerName is pgtui-<host>-<random>, a valid peer name.
func clientPeerName() string {
	host, _ := os.Hostname()
	host = strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(host), "-"), "-")
	if len(host) > 40 {
		host = strings.Trim(host[:40], "-")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	if host == "" {
		return "pgtui-" + hex.EncodeToString(b[:])
	}
	return "pgtui-" + host + "-" + hex.EncodeToString(b[:])
}

// OpenTunnel brings up this user's tunnel into org's private network.
func (c *Client) OpenTunnel(ctx context.Context, org string, log *slog.Logger) (*tunnel.Client, error) {
	cfg, err := c.TunnelConfig(ctx, org)
	if err != nil {
		return nil, err
	}
	return tunnel.Open(ctx, cfg, log)
}
