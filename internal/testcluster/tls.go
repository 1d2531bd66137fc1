package testcluster

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pgtui/pgtui/internal/embedetcd"
	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/internal/testpki"
)

// etcdTLSPort is the TLS client port of the test etcd: the usual etcd
// port, below the ephemeral range, on an address of the cluster's own.
const etcdTLSPort = 2379

// EtcdTLS is how clients reach the test etcd over TLS with a client
// certificate (Options.EtcdTLS).
type EtcdTLS struct {
	Endpoint string        // https://127.x.y.1:2379
	Files    etcdtls.Files // CA, client certificate and key
	// Other is a client certificate from a CA etcd does not trust.
	Other etcdtls.Files
}

// makeEtcdTLS writes a CA, a server certificate for host and a client
// certificate (and a second CA with its own client certificate, which
// etcd must refuse) under dir, and configures srv to serve TLS on host.
func makeEtcdTLS(dir, host string, srv *embedetcd.Server) (*EtcdTLS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := testpki.NewCA(dir, "ca")
	if err != nil {
		return nil, err
	}
	if _, _, err := ca.Server(dir, "server", host, "127.0.0.1"); err != nil {
		return nil, err
	}
	if _, _, err := ca.Client(dir, "client"); err != nil {
		return nil, err
	}
	other, err := testpki.NewCA(dir, "other-ca")
	if err != nil {
		return nil, err
	}
	if _, _, err := other.Client(dir, "other-client"); err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "https", Host: net.JoinHostPort(host, fmt.Sprint(etcdTLSPort))}
	p := func(n string) string { return filepath.Join(dir, n) }
	srv.ServeTLS(embedetcd.TLS{URL: u, CertFile: p("server.crt"), KeyFile: p("server.key"), TrustedCAFile: p("ca.crt")})
	return &EtcdTLS{Endpoint: u.String(),
		Files: etcdtls.Files{CACert: p("ca.crt"), Cert: p("client.crt"), Key: p("client.key")},
		Other: etcdtls.Files{CACert: p("ca.crt"), Cert: p("other-client.crt"), Key: p("other-client.key")}}, nil
}
