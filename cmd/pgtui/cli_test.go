package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
)

// result is one CLI run against the fake backend.
type result struct {
	out, err string
	runErr   error
	opened   int // how often a command asked for the backend
}

type runOpts struct {
	stdin string
	tty   bool
}

// runCLI runs the root command as main would, with buffers for the
// terminal and the fake as the platform.
func runCLI(t *testing.T, f *fake.Backend, o runOpts, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	var r result
	d := &deps{
		Backend: func() (backend.Backend, error) { r.opened++; return f, nil },
		Out:     &out, Err: &errb, In: strings.NewReader(o.stdin), IsTTY: o.tty,
		Now: fake.CheckTime,
	}
	root := newRoot(d)
	root.SetArgs(args)
	r.runErr = root.ExecuteContext(context.Background())
	r.out, r.err = out.String(), errb.String()
	return r
}

// mustRun fails the test when the command fails.
func mustRun(t *testing.T, f *fake.Backend, args ...string) string {
	t.Helper()
	r := runCLI(t, f, runOpts{}, args...)
	if r.runErr != nil {
		t.Fatalf("pgtui %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.runErr, r.out, r.err)
	}
	return r.out
}

// wantError checks a failed run: its one-line message, and that nothing
// reached the backend.
func wantError(t *testing.T, f *fake.Backend, r result, want string) {
	t.Helper()
	if r.runErr == nil {
		t.Fatalf("no error; want %q\nstdout:\n%s", want, r.out)
	}
	if msg := r.runErr.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("error = %q, want one line containing %q", msg, want)
	}
	if r.opened != 0 || len(f.Calls()) != 0 {
		t.Fatalf("backend was used (opened %d times, calls %v) for invalid input", r.opened, f.Calls())
	}
}

func seedCluster(t *testing.T, f *fake.Backend, name string) {
	t.Helper()
	req := backend.CreateRequest{Name: name, Org: "personal", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 10, InitialClusterSize: 2}
	if _, err := f.AddCluster(req); err != nil {
		t.Fatal(err)
	}
}

func assertText(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("output differs\n--- got ---\n%s\n--- want ---\n%s", got, want)
	}
}

func TestUsersListTable(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	mustRun(t, f, "postgres", "db", "create", "testdb", "-a", "pg")
	assertText(t, mustRun(t, f, "postgres", "users", "list", "-a", "pg"), `NAME       SUPERUSER DATABASES
pgtuiadmin true      postgres,testdb
postgres   true      postgres,testdb
repluser   false     postgres,testdb
`)
	assertText(t, mustRun(t, f, "pg", "databases", "list", "-a", "pg"), `NAME     USERS
postgres pgtuiadmin,postgres,repluser
testdb   pgtuiadmin,postgres,repluser
`)
}

func TestUsersCreateShowsGeneratedPasswordOnce(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	out := mustRun(t, f, "postgres", "users", "create", "app_user", "-a", "pg")
	lines := strings.Split(out, "\n")
	if lines[0] != "User app_user created on pg" || !strings.HasPrefix(lines[1], "  Password:    ") || len(strings.TrimPrefix(lines[1], "  Password:    ")) != 48 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	out = mustRun(t, f, "postgres", "users", "create", "other", "-a", "pg", "--password", "secret", "--superuser")
	assertText(t, out, "User other created on pg\n")
}

func TestUsersAndDBNamesValidatedFirst(t *testing.T) {
	for _, args := range [][]string{
		{"postgres", "users", "create", "Bad Name", "-a", "pg"},
		{"postgres", "db", "create", "1db", "-a", "pg"},
		{"postgres", "users", "list", "-a", "Bad_Cluster"},
		{"postgres", "users", "list"},
	} {
		f := fake.New()
		r := runCLI(t, f, runOpts{}, args...)
		if r.runErr == nil || r.opened != 0 {
			t.Fatalf("%v: err %v, backend opened %d times", args, r.runErr, r.opened)
		}
	}
}

func TestDBDeleteNeedsConfirmation(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	mustRun(t, f, "postgres", "db", "create", "testdb", "-a", "pg")
	r := runCLI(t, f, runOpts{}, "postgres", "db", "delete", "testdb", "-a", "pg")
	if r.runErr == nil || !strings.Contains(r.runErr.Error(), "--yes is required") || f.Called("DropDatabase") != 0 {
		t.Fatalf("err = %v, drop calls %d", r.runErr, f.Called("DropDatabase"))
	}
	assertText(t, mustRun(t, f, "postgres", "db", "delete", "testdb", "-a", "pg", "--yes"), "Database testdb deleted from pg\n")
}

func TestAttachRefusesInvalidAppBeforeBackend(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"postgres", "attach", "pg", "-a", "Bad_App"}, `--app: name "Bad_App" is not valid`},
		{[]string{"postgres", "attach", "pg"}, "--app (-a) is required"},
		{[]string{"postgres", "attach", "-a", "myapp"}, "name the postgres cluster"},
		{[]string{"postgres", "attach", "PG", "-a", "myapp"}, `postgres cluster: name "PG" is not valid`},
		{[]string{"postgres", "attach", "pg", "-a", "myapp", "--variable-name", "1X"}, "--variable-name"},
		{[]string{"postgres", "detach", "pg", "-a", "-bad"}, `--app: name "-bad" is not valid`},
	} {
		f := fake.New()
		wantError(t, f, runCLI(t, f, runOpts{}, tc.args...), tc.want)
	}
}

func TestAttachAndDetach(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	mustRun(t, f, "apps", "create", "my-app")
	out := mustRun(t, f, "postgres", "attach", "pg", "-a", "my-app")
	if !strings.HasPrefix(out, "Postgres cluster pg is now attached to my-app\nThe following secret was added to my-app:\n  DATABASE_URL=postgres://my_app:") ||
		!strings.HasSuffix(out, "@pg.internal:5432/my_app?sslmode=disable\n") {
		t.Fatalf("unexpected attach output:\n%s", out)
	}
	if !strings.Contains(mustRun(t, f, "secrets", "list", "-a", "my-app"), "DATABASE_URL ") {
		t.Fatal("secret not listed")
	}
	out = mustRun(t, f, "postgres", "detach", "--postgres-app", "pg", "-a", "my-app")
	if !strings.HasPrefix(out, "Postgres cluster pg is now detached from my-app\n") {
		t.Fatalf("unexpected detach output:\n%s", out)
	}
}

func TestAppsEnvAndSecrets(t *testing.T) {
	f := fake.New()
	mustRun(t, f, "apps", "create", "web")
	assertText(t, mustRun(t, f, "secrets", "set", "-a", "web", "B=it's", "A=x y"), "Secrets set on web: A, B\n")
	assertText(t, mustRun(t, f, "apps", "env", "web"), "export A='x y'\nexport B='it'\\''s'\n")
	assertText(t, mustRun(t, f, "secrets", "list", "-a", "web"), `NAME DIGEST           CREATED AT
A    887fcea6a80333c6 2021-02-10T23:21:22Z
B    24ceef1cb6b0cbc0 2021-02-10T23:21:22Z
`)
	r := runCLI(t, f, runOpts{}, "secrets", "set", "-a", "web", "NOEQUALS")
	if r.runErr == nil || f.Called("SetSecrets") != 1 {
		t.Fatalf("bad assignment: err %v, set calls %d", r.runErr, f.Called("SetSecrets"))
	}
	assertText(t, mustRun(t, f, "secrets", "unset", "-a", "web", "A"), "Secrets unset on web: A\n")
}

func TestRunPassesEnvAndExitCode(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	mustRun(t, f, "apps", "create", "web")
	mustRun(t, f, "postgres", "attach", "pg", "-a", "web")
	r := runCLI(t, f, runOpts{stdin: "from stdin\n"}, "run", "-a", "web", "--", "sh", "-c", `echo "$DATABASE_URL"; cat; exit 3`)
	code, ok := r.runErr.(exitError)
	if !ok || code.code != 3 {
		t.Fatalf("err = %#v, want exitError{3}", r.runErr)
	}
	if !strings.Contains(r.out, "@127.0.1.2:5432/web?sslmode=disable\nfrom stdin\n") {
		t.Fatalf("env not rewritten or stdin not passed:\n%s", r.out)
	}
}
