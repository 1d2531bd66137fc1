package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/backend/router"
)

// runClusters runs a command with a registry in a temp home and the fake
// as the platform; localHas says which names the local platform holds.
func runClusters(t *testing.T, home string, tty bool, stdin string, localHas string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	d := &deps{
		Backend:      func() (backend.Backend, error) { return fake.New(), nil },
		Registry:     external.NewRegistry(home),
		LocalCluster: func(_ context.Context, name string) bool { return name == localHas },
		Out:          &out, Err: &errb, In: strings.NewReader(stdin), IsTTY: tty,
	}
	root := newRoot(d)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String() + errb.String(), err
}

// TestClustersAddRefusesBeforeDialling: every mistake is a one-line error
// and nothing is saved.
func TestClustersAddRefusesBeforeDialling(t *testing.T) {
	home := t.TempDir()
	open := filepath.Join(home, "open.env")
	if err := os.WriteFile(open, []byte("PGTUI_ADMIN_PASSWORD=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(home, "private.env")
	if err := os.WriteFile(private, []byte("PGTUI_SUPERUSER_PASSWORD=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args  []string
		local string
		want  string
	}{
		{[]string{"clusters", "add", "Bad_Name", "--etcd-endpoints", "https://10.0.0.1:2379"}, "", "is not valid"},
		{[]string{"clusters", "add", "orders-db"}, "", "--etcd-endpoints is required"},
		{[]string{"clusters", "add", "orders-db", "--etcd-endpoints", "https://10.0.0.1:2379"}, "", "--credentials-file is required when not running interactively"},
		{[]string{"clusters", "add", "orders-db", "--etcd-endpoints", "https://10.0.0.1:2379", "--credentials-file", open}, "", "has mode 0644"},
		{[]string{"clusters", "add", "orders-db", "--etcd-endpoints", "https://10.0.0.1:2379", "--credentials-file", private}, "", "PGTUI_ADMIN_PASSWORD is missing"},
		{[]string{"clusters", "add", "orders-db", "--etcd-endpoints", "https://10.0.0.1:2379"}, "orders-db", "local platform already has a cluster named orders-db"},
		{[]string{"clusters", "remove", "nope"}, "", "no external cluster \"nope\" is registered"},
	} {
		out, err := runClusters(t, home, false, "", tc.local, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line containing %q\n%s", tc.args, err, tc.want, out)
		}
	}
	if names, _ := external.NewRegistry(home).Names(); len(names) != 0 {
		t.Fatalf("saved %v", names)
	}
	out, err := runClusters(t, home, false, "", "", "clusters", "list")
	if err != nil || !strings.Contains(out, "No external clusters registered") {
		t.Fatalf("list: %v %s", err, out)
	}
}

// TestClustersAddPromptsOnATerminal: without a file the admin password is
// asked for (an empty answer is refused before anything is dialled).
func TestClustersAddPromptsOnATerminal(t *testing.T) {
	out, err := runClusters(t, t.TempDir(), true, "\n", "", "clusters", "add", "orders-db", "--etcd-endpoints", "https://10.0.0.1:2379")
	if err == nil || !strings.Contains(err.Error(), "no admin password given") || !strings.Contains(out, "Admin password of orders-db") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestCockpitConnectsWithoutTheLocalPlatform: when the local platform
// cannot start, the cockpit still opens on registered external clusters,
// and fails with the platform's error when there are none.
func TestCockpitConnectsWithoutTheLocalPlatform(t *testing.T) {
	home := t.TempDir()
	down := errors.New("agent did not start")
	ext := external.New(home, nil)
	d := &deps{Backend: func() (backend.Backend, error) {
		return router.New(func() (backend.Backend, error) { return nil, down }, ext), nil
	}, Registry: ext.Registry()}
	if _, err := connectCockpit(d); !errors.Is(err, down) {
		t.Fatalf("no external clusters: %v", err)
	}
	dir := filepath.Join(home, "external", "orders-db")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.json"), []byte(`{"name":"orders-db"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := connectCockpit(d); err != nil || b == nil {
		t.Fatalf("with an external cluster: %v", err)
	}
}
