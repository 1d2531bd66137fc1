package pg

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certificate files in the data directory (postgres resolves relative
// ssl_cert_file/ssl_key_file against it). A base backup copies them; a
// member whose copy does not name it (or was signed by another CA) makes
// its own.
const (
	CertFile = "server.crt"
	KeyFile  = "server.key"
)

// CA is a cluster's certificate authority: clients verify the server's
// certificate against its certificate (sslmode=verify-full), and every
// member signs its own server certificate with its key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte // the certificate, as clients get it
}

// NewCA makes a CA for a cluster (ECDSA P-256, 10 years) and returns it
// with its certificate and key in PEM.
func NewCA(cluster string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pgtui CA " + cluster, Organization: []string{"pgtui"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode CA key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

// ParseCA reads a CA from its certificate and key in PEM.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("CA certificate: no PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("CA certificate: not a CA")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("CA key: no PEM key")
	}
	var key crypto.Signer
	if k, err := x509.ParseECPrivateKey(kb.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("CA key: not a signing key")
		}
		key = s
	} else {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	return &CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

func serialNumber() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return serial, nil
}

// EnsureCert makes sure the data directory holds a server certificate
// for hosts (IP addresses and DNS names, wildcards allowed). With a CA,
// the certificate must be signed by it and name every host, else a new
// one is made; without, any certificate present is kept and a missing one
// is made self-signed. It reports whether the files changed (postgres
// reloads them on SIGHUP). The key is 0600 and owned by the postgres
// user, which postgres requires.
func (i *Instance) EnsureCert(ca *CA, hosts ...string) (bool, error) {
	crt := filepath.Join(i.cfg.DataDir, CertFile)
	if b, err := os.ReadFile(crt); err == nil && certFits(b, ca, hosts) {
		return false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, fmt.Errorf("certificate key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "pgtui postgres", Organization: []string{"pgtui"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return false, fmt.Errorf("create certificate: %w", err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return false, fmt.Errorf("encode certificate key: %w", err)
	}
	if err := i.writeFile(KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})); err != nil {
		return true, err
	}
	return true, i.writeFile(CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// certFits: without a CA any certificate does; with one, it must chain to
// the CA and name every host.
func certFits(certPEM []byte, ca *CA, hosts []string) bool {
	if ca == nil {
		return true
	}
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return false
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil || time.Until(cert.NotAfter) < 30*24*time.Hour {
		return false
	}
	if cert.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	names := map[string]bool{}
	for _, n := range cert.DNSNames {
		names[n] = true
	}
	for _, ip := range cert.IPAddresses {
		names[ip.String()] = true
	}
	for _, h := range hosts {
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if !names[h] {
			return false
		}
	}
	return true
}

// FreeSpace reports the free bytes and the free fraction (0..1) of the
// file system holding the data directory.
func (i *Instance) FreeSpace() (free uint64, frac float64, err error) {
	return freeSpace(i.cfg.DataDir)
}
