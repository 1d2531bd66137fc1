package main

// End-to-end test of the cockpit in a real terminal: the pgtui binary runs
// in a detached tmux session against a real local platform (agent,
// machines, postgres) in a temporary PGTUI_HOME, driven with
// `tmux send-keys` and read with `tmux capture-pane`.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

// tmuxPane is one detached tmux session on a private server socket.
type tmuxPane struct {
	t       *testing.T
	socket  string
	session string
	last    string // the last capture, logged on failure
}

func (p *tmuxPane) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// keys sends tmux key names (Enter, Tab, C-u, ...).
func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	if _, err := p.tmux(append([]string{"send-keys", "-t", p.session}, keys...)...); err != nil {
		p.t.Fatal(err)
	}
}

// text types literal text. tmux reads an argument ending in ";" as a
// command separator, and one ending in "\\;" as a literal ";".
func (p *tmuxPane) text(s string) {
	p.t.Helper()
	if strings.HasSuffix(s, ";") {
		s = strings.TrimSuffix(s, ";") + `\;`
	}
	if _, err := p.tmux("send-keys", "-t", p.session, "-l", "--", s); err != nil {
		p.t.Fatal(err)
	}
}

// click sends a left click at column x, line y (0-based, as in a
// capture) as the SGR mouse report a terminal sends the cockpit (which
// turns mouse reporting on): press then release.
func (p *tmuxPane) click(x, y int) {
	p.t.Helper()
	for _, end := range []string{"M", "m"} {
		seq := fmt.Sprintf("\x1b[<0;%d;%d%s", x+1, y+1, end)
		args := []string{"send-keys", "-t", p.session, "-H"}
		for _, b := range []byte(seq) {
			args = append(args, fmt.Sprintf("%02x", b))
		}
		if _, err := p.tmux(args...); err != nil {
			p.t.Fatal(err)
		}
	}
}

// lineOf is the capture line (0-based) that matches re, or -1.
func lineOf(screen string, re *regexp.Regexp) int {
	for i, l := range strings.Split(screen, "\n") {
		if re.MatchString(l) {
			return i
		}
	}
	return -1
}

// command runs a line of the `:` palette.
func (p *tmuxPane) command(line string) {
	p.t.Helper()
	p.text(":")
	p.waitText(10*time.Second, "tab completes")
	p.text(line)
	p.waitFor("the palette line :"+line, 10*time.Second, func(s string) bool {
		return regexp.MustCompile(`(?m)^:` + regexp.QuoteMeta(line) + `\s*$`).MatchString(s)
	})
	p.keys("Enter")
}

func (p *tmuxPane) capture() string {
	out, err := p.tmux("capture-pane", "-p", "-t", p.session)
	if err != nil {
		return err.Error()
	}
	p.last = out
	return out
}

// waitFor polls the screen every 100ms until ok accepts it.
func (p *tmuxPane) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := p.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *tmuxPane) waitText(timeout time.Duration, subs ...string) string {
	p.t.Helper()
	return p.waitFor(fmt.Sprintf("%q", subs), timeout, func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	})
}

// statusRow is one machine line of the status pane:
// ID REGION ROLE STATE CHECKS.
var statusRow = regexp.MustCompile(`(?m)^[> ] ([0-9a-f]{8})\s+\S+\s+(\S+)\s+(\S+)\s+(\d+)/(\d+)\b`)

// healthyLeader returns the leader when the status screen shows exactly
// two running machines with every check passing and exactly one leader.
func healthyLeader(screen string) (string, bool) {
	rows := statusRow.FindAllStringSubmatch(screen, -1)
	if len(rows) != 2 {
		return "", false
	}
	leader := ""
	for _, r := range rows {
		if r[3] != "running" || r[4] != r[5] || r[4] == "0" {
			return "", false
		}
		if r[2] == "leader" {
			if leader != "" {
				return "", false
			}
			leader = r[1]
		}
	}
	return leader, leader != ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestCockpitTmuxEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is required for the cockpit end-to-end test (`make deps` installs it): %v", err)
	}
	bin, err := testcluster.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("/tmp", "pgte2e")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o755); err != nil { // postgres must reach the volumes
		t.Fatal(err)
	}
	id := randomHex(4)
	p := &tmuxPane{t: t, socket: "pgtui-e2e-" + id, session: "e2e-" + id}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", p.last)
		}
		_, _ = p.tmux("kill-server")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		stop := exec.CommandContext(ctx, bin, "agent", "stop")
		stop.Env = append(os.Environ(), "PGTUI_HOME="+home)
		if out, err := stop.CombinedOutput(); err != nil {
			t.Logf("agent stop: %v\n%s", err, out)
		}
		os.RemoveAll(home)
	})

	// The shell keeps the pane open after pgtui exits, so a crash is
	// visible in the capture.
	cmd := fmt.Sprintf("env PGTUI_HOME=%s %s; echo \"pgtui exited with status $?\"; exec sleep 3600", home, bin)
	if _, err := p.tmux("new-session", "-d", "-s", p.session, "-x", "100", "-y", "30", cmd); err != nil {
		t.Fatal(err)
	}
	p.waitText(time.Minute, "pgtui", "clusters", "q quit")

	// Create wizard: name, defaults, volume 1 GB, cluster size 2.
	name := "e2e-" + id
	p.command("create")
	p.waitText(10*time.Second, "Create a Postgres cluster", "App name")
	p.text(name)
	p.keys("Tab", "Tab", "Tab", "Tab") // organization, region, VM size, volume
	p.keys("C-u")
	p.text("1")
	p.keys("Tab", "C-u") // cluster size
	p.text("2")
	p.waitFor("the filled form", 10*time.Second, func(s string) bool {
		return regexp.MustCompile(`App name\s+`+name).MatchString(s) &&
			regexp.MustCompile(`(?m)Volume \(GB\)\s+1\s*$`).MatchString(s) &&
			regexp.MustCompile(`(?m)> Cluster size\s+2\s*$`).MatchString(s) && !strings.Contains(s, "✗")
	})
	p.keys("Enter")
	p.waitText(6*time.Minute, "deployed successfully", "Password:", "won't be shown again")

	// Done, then the status pane of the cluster.
	p.keys("Enter")
	p.waitText(20*time.Second, name, "q quit")
	p.command("status " + name)
	var leader string
	statusScreen := p.waitFor("two healthy machines with one leader", 3*time.Minute, func(s string) bool {
		l, ok := healthyLeader(s)
		leader = l
		return ok && strings.Contains(s, "status "+name)
	})
	t.Logf("leader %s", leader)

	// psql from the status pane.
	p.keys("p")
	p.waitFor("the psql prompt", time.Minute, func(s string) bool {
		return strings.Contains(s, "=#") || strings.Contains(s, "=>")
	})
	p.text("select 1 as e2e_ok;")
	p.keys("Enter")
	p.waitFor("the query result", 30*time.Second, func(s string) bool {
		return regexp.MustCompile(`(?m)^\s*e2e_ok\s*$`).MatchString(s) && regexp.MustCompile(`(?m)^\s+1\s*$`).MatchString(s) &&
			strings.Contains(s, "(1 row)")
	})
	p.text(`\q`)
	p.keys("Enter")
	p.waitText(30*time.Second, "status "+name, "psql on "+name+" ended")

	// Timeline: switchover, confirm, wait for the new leader.
	p.keys("t")
	p.waitText(30*time.Second, "Failover timeline of "+name, "Leader "+leader, "s switchover")
	p.keys("s")
	p.waitText(10*time.Second, "Switch "+name+" over to a replica?", "y/enter: yes")
	p.keys("y")
	newLeader := regexp.MustCompile(`new leader\s+` + leader + ` -> ([0-9a-f]{8})`)
	timelineScreen := p.waitFor("the new leader on the timeline", 3*time.Minute, func(s string) bool {
		m := newLeader.FindStringSubmatch(s)
		return m != nil && m[1] != leader && strings.Contains(s, "Leader "+m[1]) &&
			strings.Contains(s, "switchover") && strings.Contains(s, "done: ")
	})

	t.Logf("status pane:\n%s", statusScreen)
	t.Logf("timeline pane:\n%s", timelineScreen)
}
