package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// Member is one member of a multi-member etcd cluster over TLS: clients
// and peers must present a certificate signed by CAFile (`pgtui
// etcd-member`, one per host).
type Member struct {
	Name    string
	Dir     string
	Client  url.URL // https://addr:2379
	Peer    url.URL // https://addr:2380
	Cluster string  // initial cluster: name=https://addr:2380,...
	// CertFile/KeyFile serve clients and peers and dial peers, so the
	// certificate needs both server and client usage.
	CertFile, KeyFile, CAFile string
	// Heartbeat and Election: raft timing; zero takes etcd's defaults
	// (100 ms, 1 s).
	Heartbeat, Election time.Duration
}

// Validate reports the first missing setting.
func (m Member) Validate() error {
	switch {
	case m.Name == "":
		return errors.New("member name is required (--name)")
	case m.Dir == "":
		return errors.New("data directory is required (--data-dir)")
	case m.Client.Scheme != "https" || m.Peer.Scheme != "https":
		return errors.New("client and peer URLs must be https://host:port (--client-url, --peer-url)")
	case m.CertFile == "" || m.KeyFile == "" || m.CAFile == "":
		return errors.New("--cert, --key and --cacert are required: members only speak TLS")
	case !strings.Contains(m.Cluster, m.Name+"="):
		return fmt.Errorf("--initial-cluster must name this member (%s=%s)", m.Name, m.Peer.String())
	}
	return nil
}

// Run starts the member, reports readiness through ready (may be nil)
// and serves until ctx ends or etcd fails. A member restarted on its
// data rejoins with it (the initial cluster only matters the first time).
func (m Member) Run(ctx context.Context, ready func()) error {
	if err := m.Validate(); err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = m.Name, m.Dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{m.Client}, []url.URL{m.Client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{m.Peer}, []url.URL{m.Peer}
	cfg.InitialCluster = m.Cluster
	cfg.InitialClusterToken = "pgtui"
	cfg.ClusterState = embed.ClusterStateFlagNew
	tlsInfo := transport.TLSInfo{CertFile: m.CertFile, KeyFile: m.KeyFile, TrustedCAFile: m.CAFile, ClientCertAuth: true}
	cfg.ClientTLSInfo, cfg.PeerTLSInfo = tlsInfo, tlsInfo
	if m.Heartbeat > 0 {
		cfg.TickMs = uint(m.Heartbeat / time.Millisecond)
	}
	if m.Election > 0 {
		cfg.ElectionMs = uint(m.Election / time.Millisecond)
	}
	cfg.LogLevel = "warn"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd member %s: %w", m.Name, err)
	}
	defer e.Close()
	// The other members may not be up yet: readiness waits for a quorum.
	select {
	case <-e.Server.ReadyNotify():
		if ready != nil {
			ready()
		}
	case err := <-e.Err():
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	case <-ctx.Done():
		return nil
	}
	select {
	case err := <-e.Err():
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	case <-ctx.Done():
		return nil
	}
}
