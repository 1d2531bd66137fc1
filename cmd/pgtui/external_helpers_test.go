package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/etcdtls"
)

// extCLI runs the built pgtui binary with its own PGTUI_HOME.
type extCLI struct {
	t    *testing.T
	bin  string
	home string
}

func (c extCLI) cmd(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+c.home)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run returns stdout, stderr and the error of one command.
func (c extCLI) run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := c.cmd(ctx, stdin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (c extCLI) must(args ...string) string {
	c.t.Helper()
	out, errb, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("pgtui %s: %v\n%s%s", strings.Join(args, " "), err, out, errb)
	}
	return out
}

// fails wants the command to fail with one line on stderr holding want.
func (c extCLI) fails(want string, args ...string) string {
	c.t.Helper()
	out, errb, err := c.run("", args...)
	msg := strings.TrimSpace(errb)
	if err == nil || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		c.t.Fatalf("pgtui %s: err %v, stderr %q, want one line containing %q\nstdout: %s", strings.Join(args, " "), err, msg, want, out)
	}
	return msg
}

func (c extCLI) mustJSON(v any, args ...string) {
	c.t.Helper()
	out := c.must(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("pgtui %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// eventually retries f until it passes or the deadline; the error names
// the last failure.
func eventually(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func writeCreds(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func tlsFlags(f etcdtls.Files) []string {
	return []string{"--etcd-cacert", f.CACert, "--etcd-cert", f.Cert, "--etcd-key", f.Key}
}

func hasUser(us []backend.User, name string) bool {
	for _, u := range us {
		if u.Name == name {
			return true
		}
	}
	return false
}

func hasDB(ds []backend.Database, name string) bool {
	for _, d := range ds {
		if d.Name == name {
			return true
		}
	}
	return false
}

// memApps keeps apps' secrets in memory for attach.
type memApps struct{ apps map[string]map[string]string }

func (m *memApps) ListApps(context.Context) ([]backend.App, error) {
	var out []backend.App
	for n := range m.apps {
		out = append(out, backend.App{Name: n})
	}
	return out, nil
}

func (m *memApps) ListSecrets(_ context.Context, app string) ([]backend.Secret, error) {
	var out []backend.Secret
	for k := range m.apps[app] {
		out = append(out, backend.Secret{Name: k})
	}
	return out, nil
}

func (m *memApps) SetSecrets(_ context.Context, app string, v map[string]string) error {
	for k, s := range v {
		m.apps[app][k] = s
	}
	return nil
}

func (m *memApps) UnsetSecrets(_ context.Context, app string, names []string) error {
	for _, k := range names {
		delete(m.apps[app], k)
	}
	return nil
}
