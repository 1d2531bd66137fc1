package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

// statusHostRow is a member line of an external cluster's status pane.
var statusHostRow = regexp.MustCompile(`(?m)^[> ] n\d\s+\S+\s+(leader|replica)\s`)

// TestCockpitTmuxExternal runs the cockpit binary in tmux on a registered
// external cluster (a real 3-node cluster whose etcd serves TLS with
// client certificates): the list shows it with platform hosts, its status
// pane the members' addresses and no lifecycle keys, its checks pane live
// checks, the `/` filter narrows the status rows, a mouse click selects
// a row, and a switchover from its failover timeline lands.
func TestCockpitTmuxExternal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is required for the cockpit end-to-end test (`make deps` installs it): %v", err)
	}
	tmp := t.TempDir()
	bin, err := testcluster.BuildBinary(tmp)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := testcluster.Start(bin, testcluster.Options{Nodes: 3, EtcdTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	st, err := tc.WaitFor(ctx, "a healthy 3-node cluster", testcluster.Healthy(2, true))
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("/tmp", "pgte2x")
	if err != nil {
		t.Fatal(err)
	}
	c := extCLI{t: t, bin: bin, home: home}
	creds := writeCreds(t, tmp, "creds.env", "PGTUI_ADMIN_PASSWORD="+tc.Password+"\n", 0o600)
	c.must(append([]string{"clusters", "add", tc.Name, "--etcd-endpoints", tc.TLS.Endpoint, "--credentials-file", creds}, tlsFlags(tc.TLS.Files)...)...)

	id := randomHex(4)
	p := &tmuxPane{t: t, socket: "pgtui-e2x-" + id, session: "e2x-" + id}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", p.last)
		}
		_, _ = p.tmux("kill-server")
		// The cockpit starts the local platform too (to list local clusters).
		sctx, scancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer scancel()
		stop := exec.CommandContext(sctx, bin, "agent", "stop")
		stop.Env = append(os.Environ(), "PGTUI_HOME="+home)
		_ = stop.Run()
		os.RemoveAll(home)
	})
	cmd := fmt.Sprintf("env PGTUI_HOME=%s %s; echo \"pgtui exited with status $?\"; exec sleep 3600", home, bin)
	if _, err := p.tmux("new-session", "-d", "-s", p.session, "-x", "100", "-y", "30", cmd); err != nil {
		t.Fatal(err)
	}
	name, leader := tc.Name, st.Data.Leader
	p.waitFor("the cluster listed with platform hosts", time.Minute, func(s string) bool {
		return regexp.MustCompile(name + `\s+\S+\s+hosts\s`).MatchString(s)
	})

	p.command("status " + name)
	host := tc.Node(leader).Host
	p.waitFor("the status pane with addresses", time.Minute, func(s string) bool {
		return strings.Contains(s, "ADDRESS") && strings.Contains(s, host) && strings.Contains(s, "external hosts") &&
			regexp.MustCompile(leader+`\s+`+regexp.QuoteMeta(host)+`\s+leader\s+running`).MatchString(s)
	})
	if s := p.capture(); strings.Contains(s, "add a machine") || strings.Contains(s, "restart cluster") {
		t.Fatalf("lifecycle keys offered on an external cluster:\n%s", s)
	}

	// The filter keeps the leader's row alone; esc clears it.
	p.text("/")
	p.waitText(10*time.Second, "enter keep filter")
	p.text(leader)
	p.keys("Enter")
	p.waitFor("the status rows filtered to the leader", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "/"+leader+" (esc clears)") && len(statusHostRow.FindAllString(s, -1)) == 1
	})
	p.keys("Escape")
	screen := p.waitFor("the filter cleared", 10*time.Second, func(s string) bool {
		return !strings.Contains(s, "(esc clears)") && len(statusHostRow.FindAllString(s, -1)) == 3
	})
	// A click on a replica's row selects it.
	replica := regexp.MustCompile(`^[> ] (n\d)\s+\S+\s+replica\s`)
	y := lineOf(screen, replica)
	if y < 0 {
		t.Fatalf("no replica row on the status pane:\n%s", screen)
	}
	picked := replica.FindStringSubmatch(strings.Split(screen, "\n")[y])[1]
	p.click(4, y)
	p.waitFor("the clicked replica selected", 10*time.Second, func(s string) bool {
		return regexp.MustCompile(`(?m)^> ` + picked + `\s`).MatchString(s)
	})

	p.keys("c")
	p.waitText(30*time.Second, "replication: currently leader", "leader check: connected")
	p.keys("Escape")
	p.waitText(10*time.Second, "external hosts")

	p.keys("t")
	p.waitText(30*time.Second, "Failover timeline of "+name, "Leader "+leader, "s switchover")
	p.keys("s")
	p.waitText(10*time.Second, "Switch "+name+" over to a replica?", "y/enter: yes")
	p.keys("y")
	newLeader := regexp.MustCompile(`new leader\s+` + leader + ` -> (n\d)`)
	screen = p.waitFor("the new leader on the timeline", 3*time.Minute, func(s string) bool {
		m := newLeader.FindStringSubmatch(s)
		return m != nil && m[1] != leader && strings.Contains(s, "Leader "+m[1]) && strings.Contains(s, "done: ")
	})
	t.Logf("timeline pane:\n%s", screen)
	if _, err := os.Stat(home + "/external/" + name + "/credentials.env"); err != nil {
		t.Fatal(err)
	}
}
