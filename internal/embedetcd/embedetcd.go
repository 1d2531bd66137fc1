// Package embedetcd runs a single-member etcd inside the process: the
// store of the local platform and of the integration tests.
package embedetcd

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// Server is one embedded etcd member with fixed addresses, so it can be
// stopped and started again on the same data (a store outage).
type Server struct {
	dir       string
	clientURL url.URL
	peerURL   url.URL
	etcd      *embed.Etcd
	tls       *TLS
}

// TLS is an extra client listener over TLS that requires a client
// certificate signed by TrustedCA.
type TLS struct {
	URL               url.URL // https://host:port
	CertFile, KeyFile string  // the member's certificate and key (PEM)
	TrustedCAFile     string  // CA of client certificates (PEM)
}

// ServeTLS adds a TLS client listener with client-certificate
// authentication beside the plain one; call it before Start.
func (s *Server) ServeTLS(t TLS) { s.tls = &t }

// FreeURL returns an http URL on host with a port that was free just now,
// below the ephemeral range (see freeport): etcd binds it later.
func FreeURL(host string) (url.URL, error) {
	ps, err := freeport.TCP(host, 1)
	if err != nil {
		return url.URL{}, fmt.Errorf("etcd port: %w", err)
	}
	return url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(ps[0]))}, nil
}

// New prepares a member storing its data in dir, serving clients on
// clientURL; peerURL may be nil (a free port on the client's host is picked).
func New(dir string, clientURL url.URL, peerURL *url.URL) (*Server, error) {
	s := &Server{dir: dir, clientURL: clientURL}
	if peerURL != nil {
		s.peerURL = *peerURL
	} else {
		// Hold the client port while picking, so the two differ.
		if ln, err := net.Listen("tcp", clientURL.Host); err == nil {
			defer ln.Close()
		}
		u, err := FreeURL(clientURL.Hostname())
		if err != nil {
			return nil, err
		}
		s.peerURL = u
	}
	return s, nil
}

// Start runs etcd and waits until it serves.
func (s *Server) Start() error {
	cfg := embed.NewConfig()
	cfg.Name = "pgtui"
	cfg.Dir = s.dir
	cfg.ListenClientUrls = []url.URL{s.clientURL}
	cfg.AdvertiseClientUrls = []url.URL{s.clientURL}
	cfg.ListenPeerUrls = []url.URL{s.peerURL}
	cfg.AdvertisePeerUrls = []url.URL{s.peerURL}
	cfg.InitialCluster = "pgtui=" + s.peerURL.String()
	if s.tls != nil {
		cfg.ListenClientUrls = append(cfg.ListenClientUrls, s.tls.URL)
		cfg.AdvertiseClientUrls = append(cfg.AdvertiseClientUrls, s.tls.URL)
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: s.tls.CertFile, KeyFile: s.tls.KeyFile,
			TrustedCAFile: s.tls.TrustedCAFile, ClientCertAuth: true}
	}
	cfg.LogLevel = "fatal" // shutdown logs spurious errors; failures surface via Err()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd in %s: %w", s.dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcd in %s: %w", s.dir, err)
	case <-time.After(30 * time.Second):
		e.Close()
		return fmt.Errorf("etcd in %s did not become ready within 30s", s.dir)
	}
	s.etcd = e
	return nil
}

// Stop shuts etcd down; Start may be called again.
func (s *Server) Stop() {
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}

// Endpoints are the plain client URLs.
func (s *Server) Endpoints() []string { return []string{s.clientURL.String()} }

// TLSEndpoints are the TLS client URLs (none without ServeTLS).
func (s *Server) TLSEndpoints() []string {
	if s.tls == nil {
		return nil
	}
	return []string{s.tls.URL.String()}
}
