// Package testpki makes throwaway certificate authorities and
// certificates for tests: etcd over TLS with client-certificate
// authentication, in one process (testcluster) or across hosts (hosts).
package testpki

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
	"os"
	"path/filepath"
	"time"
)

// CA signs certificates; its own certificate is <dir>/<name>.crt.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	Path string // PEM certificate
}

// NewCA creates a CA valid for a day and writes <dir>/<name>.crt.
func NewCA(dir, name string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
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
	p := filepath.Join(dir, name+".crt")
	if err := WritePEM(p, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, Path: p}, nil
}

// Issue signs tmpl and writes <dir>/<name>.crt and <dir>/<name>.key
// (0600); it returns their paths.
func (ca *CA) Issue(dir, name string, tmpl *x509.Certificate) (crt, key string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", "", err
	}
	crt, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := WritePEM(crt, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return crt, key, WritePEM(key, "EC PRIVATE KEY", kb)
}

// Server issues a certificate for a member reachable on ips, valid both
// as server and as client (etcd members dial each other with it).
func (ca *CA) Server(dir, name string, ips ...string) (crt, key string, err error) {
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return "", "", fmt.Errorf("certificate %s: %q is not an IP address", name, s)
		}
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	return ca.Issue(dir, name, tmpl)
}

// Client issues a client-authentication certificate.
func (ca *CA) Client(dir, name string) (crt, key string, err error) {
	return ca.Issue(dir, name, &x509.Certificate{Subject: pkix.Name{CommonName: name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// WritePEM writes one PEM block, 0600.
func WritePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
