// Command tunnel compares a 1-machine cluster reached through the
// WireGuard tunnel (a `pgtui proxy`-style local forward over the userspace
// client, or pgx dialing through it) with the machine's :5432 proxy and
// with postgres directly on :5433: pgbench select-only TPS and a COPY of
// 256 MB, interleaved in one run because this machine is noisy; the best
// round of each is printed.
// Run by `make bench`.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testplatform"
	"github.com/pgtui/pgtui/tunnel"
)

const (
	cluster   = "bench-tun"
	copyMB    = 256
	rounds    = 2
	lineBytes = 1024
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench tunnel:", err)
		os.Exit(1)
	}
}

// target is one way to postgres: a URL for pgbench, a dial function for pgx.
type target struct {
	name string
	url  string
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func run() error {
	dir, err := os.MkdirTemp("", "pgtui-btun")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	p, err := testplatform.Start(bin, nil)
	if err != nil {
		return err
	}
	defer p.Close(true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := p.Create(ctx, cluster, 1); err != nil {
		return err
	}
	targets, closeTunnel, err := setup(ctx, p)
	if err != nil {
		return err
	}
	defer closeTunnel()
	if out, err := exec.Command("pgbench", "-i", "-s", "10", "-q", targets[2].url).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v\n%s", err, out)
	}
	if err := benchTPS(targets); err != nil {
		return err
	}
	viaClient := target{"tunnel (pgx on client)", targets[2].url, targets[0].dial}
	return benchCopy(ctx, []target{viaClient, targets[1], targets[2]})
}

// setup opens the tunnel, starts a local forward over it, and returns the
// targets: tunnel, machine proxy, direct.
func setup(ctx context.Context, p *testplatform.Platform) ([]target, func(), error) {
	ci, err := p.Client.ConnectInfo(ctx, cluster)
	if err != nil {
		return nil, nil, err
	}
	st, err := p.Client.Status(ctx, cluster)
	if err != nil || len(st.Machines) == 0 {
		return nil, nil, fmt.Errorf("status of %s: %v", cluster, err)
	}
	tc, err := p.Client.OpenTunnel(ctx, ci.Org, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	fctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tc.Forward(fctx, ln, net.JoinHostPort(ci.Host, strconv.Itoa(ci.Port)), nil) }()
	closeAll := func() { stop(); <-done; tc.Close() }
	url := func(host string, port int) string {
		return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require", ci.Password, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	ip := st.Machines[0].PrivateIP
	var d net.Dialer
	return []target{
		{"tunnel (local forward)", url("127.0.0.1", ln.Addr().(*net.TCPAddr).Port), tunnelDial(tc)},
		{"machine proxy :5432", url(ip, 5432), d.DialContext},
		{"direct :5433", url(ip, 5433), d.DialContext},
	}, closeAll, nil
}

// tunnelDial reaches the leader by name through the tunnel.
func tunnelDial(tc *tunnel.Client) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return tc.Dial(ctx, network, cluster+".internal:5432")
	}
}

func benchTPS(targets []target) error {
	res := make([][]float64, len(targets))
	for r := 0; r < rounds; r++ {
		for i, t := range targets {
			tps, err := pgbench(t.url)
			if err != nil {
				return fmt.Errorf("pgbench via %s: %w", t.name, err)
			}
			res[i] = append(res[i], tps)
		}
	}
	fmt.Printf("\ntunnel: pgbench select-only, 8 clients, 10 s, %d interleaved rounds, best TPS\n", rounds)
	med := make([]float64, len(targets))
	for i, t := range targets {
		med[i] = slices.Max(res[i])
		fmt.Printf("  %-24s %10.0f  %v\n", t.name, med[i], res[i])
	}
	fmt.Printf("  tunnel/direct %.2fx   tunnel/proxy %.2fx   proxy/direct %.2fx\n", med[0]/med[2], med[0]/med[1], med[1]/med[2])
	return nil
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+)`)

func pgbench(url string) (float64, error) {
	out, err := exec.Command("pgbench", "-n", "-S", "-c", "8", "-j", "2", "-T", "10", url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// benchCopy times COPY FROM STDIN of copyMB through each target.
func benchCopy(ctx context.Context, targets []target) error {
	res := make([][]float64, len(targets))
	for r := 0; r < rounds; r++ {
		for i, t := range targets {
			mbps, err := copyOnce(ctx, t)
			if err != nil {
				return fmt.Errorf("copy via %s: %w", t.name, err)
			}
			res[i] = append(res[i], mbps)
		}
	}
	fmt.Printf("\ntunnel: COPY FROM STDIN of %d MB, %d interleaved rounds, best MB/s\n", copyMB, rounds)
	med := make([]float64, len(targets))
	for i, t := range targets {
		med[i] = slices.Max(res[i])
		fmt.Printf("  %-24s %10.1f  %v\n", t.name, med[i], res[i])
	}
	fmt.Printf("  tunnel/direct %.2fx   tunnel/proxy %.2fx   proxy/direct %.2fx\n", med[0]/med[2], med[0]/med[1], med[1]/med[2])
	return nil
}

func copyOnce(ctx context.Context, t target) (float64, error) {
	cfg, err := pgx.ParseConfig(t.url)
	if err != nil {
		return 0, err
	}
	cfg.DialFunc = t.dial
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS bench_copy; CREATE UNLOGGED TABLE bench_copy (line text)`); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := conn.PgConn().CopyFrom(ctx, &lines{left: copyMB << 20}, `COPY bench_copy FROM STDIN`); err != nil {
		return 0, err
	}
	return copyMB / time.Since(start).Seconds(), nil
}

// lines is a reader of left bytes of 1 KiB text lines.
type lines struct {
	left int
	line []byte
}

func (l *lines) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if l.line == nil {
		l.line = []byte(fmt.Sprintf("%0*d\n", lineBytes-1, 0))
	}
	n := 0
	for n+lineBytes <= len(p) && l.left > 0 {
		n += copy(p[n:], l.line)
		l.left -= lineBytes
	}
	if n == 0 {
		return 0, fmt.Errorf("read buffer smaller than a line")
	}
	return n, nil
}
