package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

func TestCheckFormatLines(t *testing.T) {
	gib := func(x float64) uint64 { return uint64(x * (1 << 30)) }
	for _, tc := range []struct {
		name string
		got  result
		want string
		sev  Status
	}{
		{"cpu fine", formatPressure("cpu", Pressure{Avg10: 3, Avg60: 0.66}, 8*time.Second), "[✓] cpu: 0.4s waiting over the last 60s", Passing},
		{"memory fine", formatPressure("memory", Pressure{Avg10: 1, Avg60: 1.5}, 5*time.Second), "[✓] memory: 0.9s waiting over the last 60s", Passing},
		{"io idle", formatPressure("io", Pressure{}, 5*time.Second), "[✓] io: 0.0s waiting over the last 60s", Passing},
		{"cpu stalled", formatPressure("cpu", Pressure{Avg10: 85, Avg60: 20}, 8*time.Second), "[✗] system spent 8.5 of the last 10 seconds waiting for cpu", Critical},
		{"memory stalled", formatPressure("memory", Pressure{Avg10: 63, Avg60: 1}, 5*time.Second), "[✗] system spent 6.3 of the last 10 seconds waiting for memory", Critical},
		{"at the limit", formatPressure("io", Pressure{Avg10: 50, Avg60: 50}, 5*time.Second), "[✓] io: 30.0s waiting over the last 60s", Passing},
		{"disk", formatDisk("/data", Disk{Total: uint64(float64(gib(20.53)) / 0.839), Avail: gib(20.53)}, 10), "[✓] 20.53 GB (83.9%) free space on /data/", Passing},
		{"disk slash kept", formatDisk("/data/", Disk{Total: 1 << 30, Avail: 1 << 29}, 10), "[✓] 512.00 MB (50.0%) free space on /data/", Passing},
		{"disk full", formatDisk("/var/lib/pgtui/node", Disk{Total: 10 << 30, Avail: 512 << 20}, 10), "[✗] 512.00 MB (5.0%) free space on /var/lib/pgtui/node/", Critical},
		{"disk size 0", formatDisk("/x", Disk{}, 10), "[✗] free space on /x/: unknown (file system reports size 0)", Warning},
		{"load", formatLoad([3]float64{0.29, 0.35, 0.5}), "[✓] load averages: 0.29 0.35 0.50", Passing},
		{"connections", formatConnections(37, 3, 100), "[✓] connections: 37 used, 3 reserved, 100 max", Passing},
		{"connections full", formatConnections(97, 3, 100), "[✗] connections: 97 used, 3 reserved, 100 max", Critical},
		{"lag", formatLag(ptr(246*time.Microsecond), 10*time.Second), "[✓] replication lag: 246µs", Passing},
		{"lag zero", formatLag(ptr(0), 10*time.Second), "[✓] replication lag: 0s", Passing},
		{"lag high", formatLag(ptr(12300*time.Millisecond), 10*time.Second), "[✗] replication lag: 12.3s", Critical},
		{"lag unknown", formatLag(nil, 10*time.Second), "[✗] replication lag: unknown (nothing replayed yet)", Warning},
	} {
		if got := tc.got.line.String(); got != tc.want || tc.got.sev != tc.sev {
			t.Errorf("%s: got %q (%s), want %q (%s)", tc.name, got, tc.got.sev, tc.want, tc.sev)
		}
	}
}

func ptr(d time.Duration) *time.Duration { return &d }

func TestCheckFormatNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{FormatBytes(0), "0 B"},
		{FormatBytes(1023), "1023 B"},
		{FormatBytes(1536), "1.50 KB"},
		{FormatBytes(5 << 40), "5.00 TB"},
		{FormatDuration(0), "0s"},
		{FormatDuration(-time.Second), "0s"},
		{FormatDuration(246 * time.Microsecond), "246µs"},
		{FormatDuration(246400 * time.Nanosecond), "246µs"},
		{FormatDuration(12345678 * time.Nanosecond), "12.35ms"},
		{FormatDuration(1234567 * time.Microsecond), "1.235s"},
		{FormatDuration(90400 * time.Millisecond), "1m30s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestCheckPG(t *testing.T) {
	for _, tc := range []struct {
		name   string
		facts  PGFacts
		err    error
		status Status
		want   []string
	}{
		{"leader", PGFacts{Used: 37, Reserved: 3, Max: 100}, nil, Passing,
			[]string{"[✓] replication: currently leader", "[✓] connections: 37 used, 3 reserved, 100 max"}},
		{"replica", PGFacts{InRecovery: true, Streaming: true, Lag: ptr(246 * time.Microsecond), Used: 7, Reserved: 3, Max: 100}, nil, Passing,
			[]string{"[✓] leader check: connected", "[✓] replication lag: 246µs", "[✓] connections: 7 used, 3 reserved, 100 max"}},
		{"replica cut off", PGFacts{InRecovery: true, Lag: ptr(0), Used: 2, Reserved: 3, Max: 100}, nil, Critical,
			[]string{"[✗] leader check: not connected", "[✓] replication lag: 0s", "[✓] connections: 2 used, 3 reserved, 100 max"}},
		{"replica far behind, full", PGFacts{InRecovery: true, Streaming: true, Lag: ptr(time.Minute), Used: 97, Reserved: 3, Max: 100}, nil, Critical,
			[]string{"[✗] replication lag: 1m0s", "[✗] connections: 97 used, 3 reserved, 100 max", "[✓] leader check: connected"}},
		{"down", PGFacts{}, errors.New("dial unix /x/.s.PGSQL.5433: connect: no such file or directory\nmore"), Critical,
			[]string{"[✗] postgres: not answering (dial unix /x/.s.PGSQL.5433: connect: no such file or directory)"}},
		{"no socket", PGFacts{}, fmt.Errorf("connect to postgres in /x: %w", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}), Critical,
			[]string{"[✗] postgres: not answering (no such file or directory)"}},
		{"starting", PGFacts{}, fmt.Errorf("connect: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"}), Critical,
			[]string{"[✗] postgres: not answering (the database system is starting up)"}},
		{"hung", PGFacts{}, fmt.Errorf("query postgres health: %w", context.DeadlineExceeded), Critical,
			[]string{"[✗] postgres: not answering (timed out)"}},
	} {
		c := PG(tc.facts, tc.err, Thresholds{})
		if c.Name != "pg" || c.Status != tc.status || !slices.Equal(c.Text(), tc.want) {
			t.Errorf("%s: got %s %q, want %s %q", tc.name, c.Status, c.Text(), tc.status, tc.want)
		}
		switch {
		case tc.err != nil && c.Connections != nil:
			t.Errorf("%s: connections %d from a postgres that did not answer", tc.name, *c.Connections)
		case tc.err == nil && (c.Connections == nil || *c.Connections != tc.facts.Used):
			t.Errorf("%s: connections %v, want %d", tc.name, c.Connections, tc.facts.Used)
		}
	}
}

func TestCheckRole(t *testing.T) {
	for _, tc := range []struct {
		role   cluster.Role
		status Status
		text   string
	}{
		{cluster.RoleLeader, Passing, "leader"},
		{cluster.RoleReplica, Passing, "replica"},
		{cluster.RoleFenced, Critical, "fenced"},
		{cluster.RoleNone, Warning, "starting"},
	} {
		c := Role(tc.role)
		if c.Name != "role" || c.Status != tc.status || !slices.Equal(c.Text(), []string{tc.text}) {
			t.Errorf("role %q: got %s %q", tc.role, c.Status, c.Text())
		}
	}
}

func TestCheckLogLine(t *testing.T) {
	c := build("vm", []result{pass("load averages: 0.29 0.35 0.58"), fail(Critical, "system spent 6.3 of the last 10 seconds waiting for memory")})
	want := "[HEALTHCHECK] [vm: failing] [✗] system spent 6.3 of the last 10 seconds waiting for memory\n[✓] load averages: 0.29 0.35 0.58\n"
	if got := c.LogLine(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := Role(cluster.RoleLeader).LogLine(); got != "[HEALTHCHECK] [role: passing] leader\n" {
		t.Fatalf("role log line %q", got)
	}
	if !strings.HasPrefix(Role(cluster.RoleNone).LogLine(), "[HEALTHCHECK] [role: warning] ") {
		t.Fatal("warning not named")
	}
}

// TestPGReadOnlyLine: a leader read-only by hand says so and passes (the
// operator's intent must not hold up rolling operations); one read-only
// because its volume is nearly full warns.
func TestPGReadOnlyLine(t *testing.T) {
	byHand := PG(PGFacts{Max: 100, ReadOnlyReason: "set by hand", ReadOnlyByHand: true}, nil, Thresholds{})
	if byHand.Status != Passing || !strings.Contains(byHand.Output[1].Text, "mode: read-only, set by hand") {
		t.Errorf("by hand: %+v", byHand)
	}
	full := PG(PGFacts{Max: 100, ReadOnlyReason: "volume nearly full: 4.0% free, below 10%"}, nil, Thresholds{})
	if full.Status != Warning || !strings.HasPrefix(full.Output[0].Text, "mode: read-only, volume nearly full") {
		t.Errorf("volume full: %+v", full)
	}
	if rw := PG(PGFacts{Max: 100}, nil, Thresholds{}); len(rw.Output) != 2 {
		t.Errorf("read-write leader: %+v", rw)
	}
}
