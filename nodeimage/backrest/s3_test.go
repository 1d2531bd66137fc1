package backrest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage/backrest"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// s3Server runs gofakes3 (an S3-compatible server, in memory) over HTTPS
// with a certificate for localhost signed by a CA made here; pgBackRest
// speaks only TLS to S3. It returns host:port and the CA file.
func s3Server(t *testing.T, dir, bucket string) (string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, "ca key", err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgtui test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, "ca cert", err)
	ca, err := x509.ParseCertificate(caDER)
	must(t, "ca parse", err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, "key", err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	must(t, "cert", err)
	caFile := filepath.Join(dir, "s3-ca.pem")
	must(t, "write ca", os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))

	mem := s3mem.New()
	must(t, "bucket", mem.CreateBucket(bucket))
	srv := &http.Server{Handler: gofakes3.New(mem, gofakes3.WithLogger(gofakes3.DiscardLog())).Server(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, ReadHeaderTimeout: 10 * time.Second}
	var ln net.Listener
	for attempt := 0; ; attempt++ {
		ports, err := freeport.TCP("127.0.0.1", 1)
		must(t, "port", err)
		ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])))
		if err == nil {
			break
		}
		if attempt > 5 || !freeport.InUse(err) {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("s3 server: %v", err)
		}
	})
	return "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), caFile
}

// TestS3Repository: archiving, a backup, info and a restore with the
// repository in an S3 bucket (gofakes3 over HTTPS, path-style).
func TestS3Repository(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	endpoint, caFile := s3Server(t, e.root, "pgtui-backups")
	repo := backrest.Repo{Path: "/s3test", CipherPass: "s3-cipher-pass", S3: &backrest.S3{Endpoint: endpoint, Bucket: "pgtui-backups",
		Key: "AKIDTEST", Secret: "test-secret-key", CAFile: caFile, PathStyle: true}}
	src := e.instance(t, "s3src")
	br := e.backrest(t, "s3test", src, repo)
	must(t, "initdb", src.Initdb(ctx))
	_, err := src.WriteConf(pg.Settings{Params: archiveParams(br)})
	must(t, "write conf", err)
	must(t, "start", src.Start(ctx))
	must(t, "stanza-create", br.StanzaCreate(ctx))
	label, err := br.Backup(ctx, backrest.Full, nil)
	must(t, "backup", err)
	exec1(ctx, t, src, "CREATE TABLE s (v int); INSERT INTO s SELECT generate_series(1, 42)")
	must(t, "check", br.Check(ctx))
	info, err := br.Info(ctx)
	must(t, "info", err)
	if b, ok := info.Newest(); !ok || b.Label != label || info.WALMax == "" {
		t.Fatalf("info %+v, want backup %s and archived WAL", info, label)
	}

	dst := e.instance(t, "s3dst")
	must(t, "restore", e.backrest(t, "s3test", dst, repo).Restore(ctx, backrest.Target{Latest: true}))
	_, err = dst.WriteConf(pg.Settings{})
	must(t, "write conf", err)
	must(t, "start restored", dst.Start(ctx))
	must(t, "recovery", dst.WaitRecoveryEnd(ctx))
	if n := queryInt(ctx, t, dst, "SELECT count(*) FROM s"); n != 42 {
		t.Fatalf("restored %d rows, want 42", n)
	}
}
