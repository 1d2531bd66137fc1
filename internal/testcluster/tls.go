package testcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/pgtui/pgtui/internal/embedetcd"
	"github.com/pgtui/pgtui/internal/etcdtls"
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
	ca, err := newCA(dir, "ca")
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if err := ca.issue(dir, "server", &x509.Certificate{Subject: pkix.Name{CommonName: "etcd"},
		IPAddresses: []net.IP{ip, net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, err
	}
	if err := ca.issue(dir, "client", &x509.Certificate{Subject: pkix.Name{CommonName: "pgtui"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, err
	}
	other, err := newCA(dir, "other-ca")
	if err != nil {
		return nil, err
	}
	if err := other.issue(dir, "other-client", &x509.Certificate{Subject: pkix.Name{CommonName: "intruder"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "https", Host: net.JoinHostPort(host, fmt.Sprint(etcdTLSPort))}
	p := func(n string) string { return filepath.Join(dir, n) }
	srv.ServeTLS(embedetcd.TLS{URL: u, CertFile: p("server.crt"), KeyFile: p("server.key"), TrustedCAFile: p("ca.crt")})
	return &EtcdTLS{Endpoint: u.String(),
		Files: etcdtls.Files{CACert: p("ca.crt"), Cert: p("client.crt"), Key: p("client.key")},
		Other: etcdtls.Files{CACert: p("ca.crt"), Cert: p("other-client.crt"), Key: p("other-client.key")}}, nil
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(dir, name string) (*testCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "pgtui test " + name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return &testCA{cert: cert, key: key}, nil
}

// issue signs tmpl and writes name.crt and name.key (0600).
func (ca *testCA) issue(dir, name string, tmpl *x509.Certificate) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kb)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
