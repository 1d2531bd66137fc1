package main

import (
	"testing"

	"github.com/pgtui/pgtui/backend/fake"
)

// Tunnel commands check their input before they touch the platform.

func TestProxyValidatesFirst(t *testing.T) {
	f := fake.New()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "5432"}, "--app (-a) is required"},
		{[]string{"proxy", "abc", "-a", "pg"}, `port "abc" is not valid`},
		{[]string{"proxy", "70000", "-a", "pg"}, `port "70000" is not valid`},
		{[]string{"proxy", "15432:0", "-a", "pg"}, `port "0" is not valid`},
		{[]string{"proxy", "5432", "bad..host", "-a", "pg"}, "bad DNS name"},
		{[]string{"proxy", "5432", "-a", "Bad_Name"}, "--app"},
	} {
		wantError(t, f, runCLI(t, f, runOpts{}, c.args...), c.want)
	}
}

func TestDigValidatesFirst(t *testing.T) {
	f := fake.New()
	wantError(t, f, runCLI(t, f, runOpts{}, "dig", "x.-bad.internal"), "bad DNS name")
	wantError(t, f, runCLI(t, f, runOpts{}, "dig", "a.b$c.internal"), `label "b$c"`)
	wantError(t, f, runCLI(t, f, runOpts{}, "dig", "pg", "--type", "BOGUS"), "not a DNS record type")
	wantError(t, f, runCLI(t, f, runOpts{}, "dig", "pg", "--org", "Not Valid"), "--org")
}

func TestWireguardValidatesFirst(t *testing.T) {
	f := fake.New()
	wantError(t, f, runCLI(t, f, runOpts{}, "wireguard", "create", "Bad Org"), "org")
	wantError(t, f, runCLI(t, f, runOpts{}, "wireguard", "create", "personal", "xxx"), "xxx")
	wantError(t, f, runCLI(t, f, runOpts{}, "wireguard", "create", "personal", "iad", "no-"), "wireguard peer name")
	wantError(t, f, runCLI(t, f, runOpts{}, "wireguard", "create", "personal", "iad", "ok", "cli_test.go"), "cli_test.go exists")
	wantError(t, f, runCLI(t, f, runOpts{}, "wireguard", "remove", "UPPER"), "wireguard peer name")
}

func TestTunnelConnectNeedsPsql(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	f := fake.New()
	r := runCLI(t, f, runOpts{}, "postgres", "connect", "-a", "pg")
	wantError(t, f, r, "psql not found: install it with apt-get install postgresql-client")
}

func TestTunnelCommandsNeedTheLocalPlatform(t *testing.T) {
	f := fake.New()
	r := runCLI(t, f, runOpts{}, "wireguard", "list")
	if r.runErr == nil || r.runErr.Error() != "this platform has no WireGuard gateway" {
		t.Fatalf("wireguard list on the fake: %v", r.runErr)
	}
}
