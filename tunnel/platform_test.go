package tunnel_test

// Integration tests of the tunnel against a real agent: a 1-machine
// cluster reached through the userspace client, and through a TUN
// WireGuard interface configured from `pgtui wireguard create`.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testplatform"
	"github.com/pgtui/pgtui/tunnel"
)

var binPath string

func TestMain(m *testing.M) {
	os.Exit(testcluster.RunWithBinary(m, &binPath))
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func startPlatform(t *testing.T) *testplatform.Platform {
	t.Helper()
	p, err := testplatform.Start(binPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(!t.Failed()); err != nil {
			t.Errorf("agent: %v", err)
		}
		if t.Failed() {
			t.Logf("platform home kept at %s", p.Home)
		}
	})
	return p
}

// pgxThrough connects with pgx, dialing and resolving through the tunnel.
func pgxThrough(ctx context.Context, tc *tunnel.Client, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url + "?sslmode=require")
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = tc.Dial
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	return pgx.ConnectConfig(ctx, cfg)
}

const copyBytes = 10 << 20

// copyRoundTrip writes copyBytes into a table with COPY and reads them back.
func copyRoundTrip(ctx context.Context, conn *pgx.Conn) (in, out int64, err error) {
	if _, err := conn.Exec(ctx, `CREATE TABLE blob (line text)`); err != nil {
		return 0, 0, err
	}
	line := strings.Repeat("x", 1023) + "\n"
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < copyBytes/len(line); i++ {
			if _, err := io.WriteString(pw, line); err != nil {
				return
			}
		}
		pw.Close()
	}()
	tag, err := conn.PgConn().CopyFrom(ctx, pr, `COPY blob FROM STDIN`)
	if err != nil {
		return 0, 0, fmt.Errorf("copy in: %w", err)
	}
	in = tag.RowsAffected() * int64(len(line))
	cw := &countWriter{}
	if _, err := conn.PgConn().CopyTo(ctx, cw, `COPY blob TO STDOUT`); err != nil {
		return in, 0, fmt.Errorf("copy out: %w", err)
	}
	return in, cw.n, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func TestTunnelPlatform(t *testing.T) {
	p := startPlatform(t)
	ctx := tctx(t, 8*time.Minute)
	if _, err := p.Create(ctx, "tun-pg", 1); err != nil {
		t.Fatal(err)
	}
	ci, err := p.Client.ConnectInfo(ctx, "tun-pg")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := p.Client.TunnelConfig(ctx, ci.Org)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tunnel.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()

	conn, err := pgxThrough(ctx, tc, ci.URL)
	if err != nil {
		t.Fatalf("connect through the tunnel: %v", err)
	}
	var one int
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 = %d, %v", one, err)
	}
	in, out, err := copyRoundTrip(ctx, conn)
	conn.Close(ctx)
	if err != nil || in < copyBytes || out < copyBytes {
		t.Fatalf("copy: in %d, out %d bytes, %v", in, out, err)
	}

	peers, err := p.Client.ListPeers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine := -1
	for i := range peers {
		if peers[i].PublicKey == cfg.PrivateKey.PublicKey().String() {
			mine = i
		}
	}
	if mine < 0 {
		t.Fatalf("the gateway does not list this peer: %+v", peers)
	}
	me := peers[mine]
	if me.LastHandshake.IsZero() || me.RxBytes < copyBytes || me.TxBytes < copyBytes {
		t.Fatalf("gateway's view of this peer: %+v (all: %+v)", me, peers)
	}
	t.Logf("peer %s: rx %d, tx %d bytes", me.Name, me.RxBytes, me.TxBytes)

	t.Run("wg-quick config in a namespace", func(t *testing.T) { testNamespacePeer(t, p, "tun-pg") })

	// A removed peer cannot connect any more, and says so in bounded time.
	if err := p.Client.RemovePeer(ctx, me.Name); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = pgxThrough(ctx, tc, ci.URL)
	took := time.Since(start)
	// ErrNoHandshake (not ctx's deadline): the client gave up by itself.
	if err == nil || !errors.Is(err, tunnel.ErrNoHandshake) && !strings.Contains(err.Error(), tunnel.ErrNoHandshake.Error()) {
		t.Fatalf("connect after removal: %v", err)
	}
	t.Logf("after removal (%s): %v", took.Round(time.Millisecond), err)
}
