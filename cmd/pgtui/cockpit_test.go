package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
)

func TestCockpitNeedsATerminal(t *testing.T) {
	f := fake.New()
	r := runCLI(t, f, runOpts{tty: true})
	wantError(t, f, r, "the cockpit needs a terminal")
	r = runCLI(t, f, runOpts{})
	wantError(t, f, r, "the cockpit needs a terminal")
}

func TestRootStillHelpsAndRefusesStrayArgs(t *testing.T) {
	f := fake.New()
	out := mustRun(t, f, "--help")
	if !strings.Contains(out, "Run without a command to open the cockpit") || !strings.Contains(out, "postgres") {
		t.Fatalf("--help:\n%s", out)
	}
	r := runCLI(t, f, runOpts{}, "bogus")
	wantError(t, f, r, `unknown command "bogus"`)
}

func TestPSQLTargets(t *testing.T) {
	s := newPSQLTargets(func(string) (string, error) { return "/usr/bin/psql", nil })
	if _, err := s.Command(views.PSQLMsg{Cluster: "md-postgres-500"}); err == nil || !strings.Contains(err.Error(), "no password for md-postgres-500") {
		t.Fatalf("unknown cluster: %v", err)
	}
	s.Remember("md-postgres-500", backend.Credentials{Username: "postgres", Password: "s3cret", Hostname: "md-postgres-500.internal",
		ProxyPort: 5432, LocalURL: "postgres://postgres:s3cret@127.0.1.2:5432/postgres"})
	cmd, err := s.Command(views.PSQLMsg{Cluster: "md-postgres-500"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/usr/bin/psql", "postgres://postgres@127.0.1.2:5432/postgres"}; !slices.Equal(cmd.Args, want) {
		t.Fatalf("args %q, want %q", cmd.Args, want)
	}
	if !slices.Contains(cmd.Env, "PGPASSWORD=s3cret") {
		t.Fatal("password not passed in PGPASSWORD")
	}
	// P on a machine: its own postgres on :5433, same credentials.
	cmd, err = s.Command(views.PSQLMsg{Cluster: "md-postgres-500", Machine: "6b97fa06", Addr: "127.0.1.3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/usr/bin/psql", "postgres://postgres@127.0.1.3:5433/postgres"}; !slices.Equal(cmd.Args, want) {
		t.Fatalf("machine args %q, want %q", cmd.Args, want)
	}
	if _, err := s.Command(views.PSQLMsg{Cluster: "md-postgres-500", Machine: "6b97fa06"}); err == nil {
		t.Fatal("a machine without an address was accepted")
	}
	s.viaTunnel = connectCommand("/bin/pgtui")
	cmd, err = s.Command(views.PSQLMsg{Cluster: "older"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/pgtui", "postgres", "connect", "-a", "older"}; !slices.Equal(cmd.Args, want) {
		t.Fatalf("tunnel args %q, want %q", cmd.Args, want)
	}
	cmd, err = s.Command(views.PSQLMsg{Cluster: "older", Machine: "6b97fa06", Addr: "127.0.1.3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/pgtui", "postgres", "connect", "-a", "older", "--machine", "6b97fa06"}; !slices.Equal(cmd.Args, want) {
		t.Fatalf("tunnel machine args %q, want %q", cmd.Args, want)
	}
	s.lookPath = func(string) (string, error) { return "", errors.New("not found") }
	if _, err := s.Command(views.PSQLMsg{Cluster: "md-postgres-500"}); err == nil || !strings.Contains(err.Error(), "psql is not installed") {
		t.Fatalf("missing psql: %v", err)
	}
}

func TestPSQLFallsBackToPrivateURL(t *testing.T) {
	cmd, err := psqlCommandAt("psql", backend.Credentials{Username: "postgres", Password: "pw", Hostname: "a.internal", ProxyPort: 5432}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := cmd.Args[1]; got != "postgres://postgres@a.internal:5432" {
		t.Fatalf("url %q", got)
	}
}
