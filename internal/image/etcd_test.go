package image

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// testEtcd is a one-member etcd on the test bridge's own address (so the
// fixed ports 2379/2380 collide with nothing), over https with client
// certificates when tls is set: the CA, the member's certificate and a
// client certificate are made by the test (root-owned, 0600, as an
// operator's would be).
type testEtcd struct {
	Endpoint string
	CACert   string // with TLS: the files a node passes as --etcd-cacert,
	Cert     string // --etcd-cert
	Key      string // --etcd-key
	Client   *clientv3.Client
}

func startTestEtcd(t *testing.T, host string, withTLS bool) *testEtcd {
	t.Helper()
	dir := t.TempDir()
	scheme := "http"
	cfg := embed.NewConfig()
	te := &testEtcd{}
	var clientTLS *tls.Config
	if withTLS {
		scheme = "https"
		ca, err := makeCerts(dir, host)
		if err != nil {
			t.Fatal(err)
		}
		te.CACert, te.Cert, te.Key = ca, filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
			TrustedCAFile: ca, ClientCertAuth: true}
		clientTLS, err = transport.TLSInfo{CertFile: te.Cert, KeyFile: te.Key, TrustedCAFile: ca}.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
	}
	cu := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, "2379")}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort(host, "2380")}
	cfg.Name, cfg.Dir = "image-test", filepath.Join(dir, "data")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	cfg.LogLevel = "fatal" // shutdown logs spurious errors; failures surface through Err()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcd: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("etcd not ready within a minute")
	}
	te.Endpoint = cu.String()
	te.Client, err = clientv3.New(clientv3.Config{Endpoints: []string{te.Endpoint}, TLS: clientTLS, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { te.Client.Close() })
	return te
}

// makeCerts writes ca.pem, server.pem/server-key.pem (for ip) and
// client.pem/client-key.pem into dir, 0600, and returns ca.pem's path.
func makeCerts(dir, ip string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgtui image test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	if err := writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER); err != nil {
		return "", err
	}
	for i, leaf := range []struct {
		name  string
		usage x509.ExtKeyUsage
	}{{"server", x509.ExtKeyUsageServerAuth}, {"client", x509.ExtKeyUsageClientAuth}} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: "pgtui image test " + leaf.name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{leaf.usage}}
		if leaf.name == "server" {
			tmpl.IPAddresses = []net.IP{net.ParseIP(ip)}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return "", err
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return "", err
		}
		if err := writePEM(filepath.Join(dir, leaf.name+".pem"), "CERTIFICATE", der); err != nil {
			return "", err
		}
		if err := writePEM(filepath.Join(dir, leaf.name+"-key.pem"), "EC PRIVATE KEY", kb); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "ca.pem"), nil
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
