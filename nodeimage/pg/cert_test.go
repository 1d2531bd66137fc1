package pg

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertSignedByCA: the server certificate chains to the cluster's CA
// and verifies for each host it must name; a certificate copied from
// another member (a base backup) or signed by another CA is replaced, one
// that fits is kept. With TLS on, pg_hba accepts TCP clients only over TLS.
func TestCertSignedByCA(t *testing.T) {
	dir := t.TempDir()
	inst := New(Config{DataDir: dir})
	caPEM, keyPEM, err := NewCA("c1")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCA(caPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"127.9.1.2", "127.9.1.3", "c1.internal", "*.vm.c1.internal"}
	if changed, err := inst.EnsureCert(ca, hosts...); err != nil || !changed {
		t.Fatalf("first certificate: changed %v, err %v", changed, err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	verify := func(name string) error {
		b, err := os.ReadFile(filepath.Join(dir, CertFile))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}
	for _, name := range []string{"127.9.1.2", "127.9.1.3", "c1.internal", "abc.vm.c1.internal"} {
		if err := verify(name); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if err := verify("other.internal"); err == nil {
		t.Error("certificate verifies for a name it should not carry")
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v", fi, err)
	}
	if changed, _ := inst.EnsureCert(ca, hosts...); changed {
		t.Error("a fitting certificate was replaced")
	}
	// A new member's address: a new certificate naming it too.
	if changed, _ := inst.EnsureCert(ca, append(hosts, "127.9.1.4")...); !changed || verify("127.9.1.4") != nil {
		t.Error("certificate not renewed for a new member's address")
	}
	// Another CA (a cluster made by an older pgtui gets one): replaced.
	otherPEM, otherKey, _ := NewCA("c1")
	other, _ := ParseCA(otherPEM, otherKey)
	if changed, _ := inst.EnsureCert(other, hosts...); !changed {
		t.Error("certificate of another CA kept")
	}
	// Without a CA any certificate present is kept (self-signed nodes).
	if changed, _ := inst.EnsureCert(nil, "elsewhere"); changed {
		t.Error("certificate replaced without a CA")
	}

	hba, err := renderHBA("repl", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(hba)), "\n") {
		if strings.HasPrefix(line, "host ") && !strings.HasSuffix(line, " reject") {
			t.Errorf("pg_hba with TLS on accepts clear TCP: %q", line)
		}
	}
}
