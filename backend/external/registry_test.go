package external

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
)

func TestParseCredentials(t *testing.T) {
	c, err := ParseCredentials([]byte("# ops\nPGTUI_ADMIN_PASSWORD = s3cret\n\nPGTUI_SUPERUSER_PASSWORD=root\nOTHER=x\n"))
	if err != nil || c.AdminPassword != "s3cret" || c.SuperuserPassword != "root" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseCredentials([]byte("PGTUI_SUPERUSER_PASSWORD=root\n")); err == nil || !strings.Contains(err.Error(), EnvAdmin) {
		t.Fatalf("missing admin password: %v", err)
	}
}

// TestRegistrySaveIsWholeAndPrivate: a saved cluster reads back, every
// file is 0600, the entry holds no password; remove forgets it.
func TestRegistrySaveIsWholeAndPrivate(t *testing.T) {
	r := NewRegistry(t.TempDir())
	e := Entry{Name: "orders-db", Endpoints: []string{"https://10.0.0.1:2379"}}
	if err := r.save(e, Credentials{AdminPassword: "pw-1"}); err != nil {
		t.Fatal(err)
	}
	names, err := r.Names()
	if err != nil || len(names) != 1 || names[0] != "orders-db" {
		t.Fatalf("names %v %v", names, err)
	}
	got, err := r.Get("orders-db")
	if err != nil || got.Endpoints[0] != e.Endpoints[0] {
		t.Fatalf("get %+v %v", got, err)
	}
	if c, err := r.Credentials("orders-db"); err != nil || c.AdminPassword != "pw-1" {
		t.Fatalf("credentials %+v %v", c, err)
	}
	for _, f := range []string{"cluster.json", "credentials.env", "attachments.json"} {
		fi, err := os.Stat(filepath.Join(r.clusterDir("orders-db"), f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(r.clusterDir("orders-db"), "cluster.json")); strings.Contains(string(b), "pw-1") {
		t.Fatal("cluster.json holds the password")
	}
	if err := r.Remove("orders-db"); err != nil {
		t.Fatal(err)
	}
	var nr NotRegisteredError
	if err := r.Remove("orders-db"); !errors.As(err, &nr) {
		t.Fatalf("second remove: %v", err)
	}
	if des, _ := os.ReadDir(r.dir); len(des) != 0 {
		t.Fatalf("left behind: %v", des)
	}
}

// TestAddRefusesBadInputFirst: names, endpoints, credentials and TLS
// files are checked before etcd is dialled, and nothing is saved.
func TestAddRefusesBadInputFirst(t *testing.T) {
	r := NewRegistry(t.TempDir())
	ok := AddRequest{Name: "orders-db", Endpoints: []string{"https://10.0.0.1:2379"}, Credentials: Credentials{AdminPassword: "pw"}}
	for _, tc := range []struct {
		mut  func(*AddRequest)
		want string
	}{
		{func(a *AddRequest) { a.Name = "Orders_DB" }, "is not valid"},
		{func(a *AddRequest) { a.Name = "" }, "name is empty"},
		{func(a *AddRequest) { a.Endpoints = nil }, "--etcd-endpoints is required"},
		{func(a *AddRequest) { a.Endpoints = []string{"10.0.0.1:2379"} }, "is not valid"},
		{func(a *AddRequest) { a.Credentials.AdminPassword = "" }, "admin password"},
		{func(a *AddRequest) { a.TLS.Cert = "/nonexistent/c.crt" }, "go together"},
		{func(a *AddRequest) { a.TLS.CACert = "/nonexistent/ca.crt" }, "etcd CA certificate"},
	} {
		req := ok
		tc.mut(&req)
		err := r.Add(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", req, err, tc.want)
		}
	}
	if names, _ := r.Names(); len(names) != 0 {
		t.Fatalf("saved %v", names)
	}
}

// TestLifecycleRefused: every lifecycle call names the cluster and says
// who owns its nodes.
func TestLifecycleRefused(t *testing.T) {
	b := New(t.TempDir(), nil)
	ctx := context.Background()
	want := "cluster orders-db runs on external hosts: its nodes are owned by the engine that started them (Docker, Podman, systemd); pgtui only operates it"
	_, err := b.CreateCluster(ctx, backend.CreateRequest{Name: "orders-db"})
	for _, err := range []error{err, b.Restart(ctx, "orders-db"), b.ScaleVM(ctx, "orders-db", "x"), b.ScaleCount(ctx, "orders-db", 5, ""),
		b.DestroyCluster(ctx, "orders-db"), b.MachineAction(ctx, "orders-db", "n1", backend.ActionStop)} {
		if err == nil || err.Error() != want {
			t.Errorf("got %v", err)
		}
	}
}
