package main

import (
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend/fake"
)

// The whole create transcript, pinned: the seed's blocks in the seed's
// order, with the monitor line printed whenever the counts change.
const seedCreate = `Creating postgres cluster md-postgres-500 in organization personal

Postgres cluster md-postgres-500 created
  Username:    postgres
  Password:    5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e
  Hostname:    md-postgres-500.internal
  Proxy Port:  5432
  PG Port: 5433
Save your credentials in a secure place, you won't be able to see them again!

Monitoring Deployment
You can detach the terminal anytime without stopping the deployment

2 desired, 0 placed, 0 healthy, 0 unhealthy [health checks: 0 total, 0 passing]
2 desired, 2 placed, 0 healthy, 0 unhealthy [health checks: 6 total, 0 passing]
2 desired, 2 placed, 1 healthy, 0 unhealthy [health checks: 6 total, 3 passing]
2 desired, 2 placed, 2 healthy, 0 unhealthy [health checks: 6 total, 6 passing]
--> v0 deployed successfully

Connect to postgres
Any app within the personal organization can connect to postgres using the above credentials and the hostname "md-postgres-500.internal."
For example: postgres://postgres:5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e@md-postgres-500.internal:5432
From this machine: postgres://postgres:5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e@127.0.1.2:5432/postgres
`

func TestCreateWithFlagsPrintsSeedTranscript(t *testing.T) {
	f := fake.New()
	out := mustRun(t, f, "postgres", "create", "--name", "md-postgres-500", "--region", "dfw")
	assertText(t, out, seedCreate)
	if got := f.Calls(); len(got) != 1 || got[0] != "CreateCluster" {
		t.Fatalf("calls = %v", got)
	}
}

func TestCreateDetachStopsAfterCredentials(t *testing.T) {
	f := fake.New()
	out := mustRun(t, f, "pg", "create", "-n", "md-postgres-500", "-r", "dfw", "--detach")
	head := seedCreate[:strings.Index(seedCreate, "\nMonitoring")]
	assertText(t, out, head+"\nThe deployment continues in the background: see `pgtui status -a md-postgres-500`\n")
}

func TestCreateFailedDeploymentIsAnError(t *testing.T) {
	f := fake.New()
	f.CreateError = "machine da8141e7 did not pass its checks within 5m0s"
	r := runCLI(t, f, runOpts{}, "postgres", "create", "--name", "pg", "--region", "iad")
	if r.runErr == nil || r.runErr.Error() != "deployment of pg failed: machine da8141e7 did not pass its checks within 5m0s" {
		t.Fatalf("err = %v", r.runErr)
	}
	if !strings.Contains(r.out, "Postgres cluster pg created\n") || strings.Contains(r.out, "deployed successfully") {
		t.Fatalf("unexpected output:\n%s", r.out)
	}
}

func TestCreateNonInteractiveMissingFlag(t *testing.T) {
	f := fake.New()
	wantError(t, f, runCLI(t, f, runOpts{}, "postgres", "create", "--region", "iad"),
		"--name is required when not running interactively")
	r := runCLI(t, f, runOpts{}, "postgres", "create", "--name", "pg")
	want := "--region is required when not running interactively (one of ams, arn, bom, cdg, dfw, ewr, fra, gru, hkg, iad, " +
		"jnb, lax, lhr, mad, mia, nrt, ord, otp, scl, sea, sin, sjc, syd, waw, yul, yyz)"
	wantError(t, f, r, want)
	if r.runErr.Error() != want {
		t.Fatalf("error = %q, want exactly %q", r.runErr, want)
	}
}

func TestCreateRejectsInvalidInputBeforeBackend(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--name", "Bad_Name"}, `name "Bad_Name" is not valid`},
		{[]string{"--name", "pg-"}, `name "pg-" is not valid`},
		{[]string{"--region", "xyz"}, `unknown region "xyz": choose one of ams, arn`},
		{[]string{"--vm-size", "huge"}, `unknown VM size "huge": choose one of shared-cpu-1x`},
		{[]string{"--volume-size", "0"}, "volume size 0 GB is out of range: choose 1 to 500"},
		{[]string{"--volume-size", "501"}, "volume size 501 GB is out of range: choose 1 to 500"},
		{[]string{"--initial-cluster-size", "0"}, "cluster size 0 is out of range: choose 1 to 9"},
		{[]string{"--initial-cluster-size", "10"}, "cluster size 10 is out of range: choose 1 to 9"},
		{[]string{"--org", "Not An Org"}, `organization: name "Not An Org" is not valid`},
	} {
		t.Run(strings.Join(tc.flags, "="), func(t *testing.T) {
			args := append([]string{"postgres", "create", "--name", "pg", "--region", "iad"}, tc.flags...)
			f := fake.New()
			r := runCLI(t, f, runOpts{}, args...)
			wantError(t, f, r, tc.want)
			if f.Called("CreateCluster") != 0 || r.out != "" {
				t.Fatalf("create reached the backend or printed %q", r.out)
			}
		})
	}
}

func TestCreatePromptsAtTerminal(t *testing.T) {
	f := fake.New()
	// A bad name and a bad region are asked again; empty answers take the defaults.
	stdin := "Bad_Name\nmd-postgres-500\n\nxyz\ndfw\n\n20\n3\n"
	r := runCLI(t, f, runOpts{stdin: stdin, tty: true}, "postgres", "create")
	if r.runErr != nil {
		t.Fatalf("%v\nstderr:\n%s", r.runErr, r.err)
	}
	for _, want := range []string{
		"? App name: X name \"Bad_Name\" is not valid",
		"? Select organization [personal]: ",
		"Select region:\n  ams  Amsterdam, Netherlands\n",
		"? Select region [iad]: X unknown region \"xyz\"",
		"  shared-cpu-1x - 256\n",
		"? Select VM size [shared-cpu-1x]: ",
		"? Volume size (GB) [10]: ",
		"? Initial cluster size [2]: ",
	} {
		if !strings.Contains(r.err, want) {
			t.Fatalf("prompts lack %q:\n%s", want, r.err)
		}
	}
	out := mustRun(t, f, "status", "-a", "md-postgres-500", "--json")
	if !strings.Contains(out, `"region": "dfw"`) || strings.Count(out, `"id":`) != 3 {
		t.Fatalf("cluster not created as answered:\n%s", out)
	}
}

func TestCreatePromptsOnlyForMissingFlags(t *testing.T) {
	f := fake.New()
	r := runCLI(t, f, runOpts{stdin: "\n", tty: true}, "postgres", "create", "-n", "pg", "-o", "personal", "-r", "iad",
		"--vm-size", "shared-cpu-1x", "--volume-size", "10")
	if r.runErr != nil || r.err != "? Initial cluster size [2]: " {
		t.Fatalf("err %v, prompts %q", r.runErr, r.err)
	}
}

func TestCreateAtTerminalWithClosedInput(t *testing.T) {
	f := fake.New()
	r := runCLI(t, f, runOpts{tty: true}, "postgres", "create")
	wantError(t, f, r, `--name: no answer to "App name": EOF`)
}
