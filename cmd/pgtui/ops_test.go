package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend/fake"
)

func TestStatusLayout(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "test-postgres")
	want := `  Name     = test-postgres
  Owner    = personal
  Version  = 0
  Status   = running
  Hostname = test-postgres.internal

Deployment Status
  Version     = v0
  Status      = successful
  Description = Deployment completed successfully
  Instances   = 2 desired, 2 placed, 2 healthy, 0 unhealthy

ID       VERSION REGION DESIRED STATUS            HEALTH CHECKS      RESTARTS CREATED
6b97fa06 0       iad    run     running (leader)  3 total, 3 passing 0        2021-02-10T23:21:22Z
da8141e7 0       iad    run     running (replica) 3 total, 3 passing 0        2021-02-10T23:21:23Z
`
	assertText(t, mustRun(t, f, "status", "-a", "test-postgres"), want)
	assertText(t, mustRun(t, f, "postgres", "status", "-a", "test-postgres"), want)
}

// The JSON contract for scripts: name, and per machine id,
// region, state, role, private_ip and checks {total, passing}.
func TestStatusJSONShape(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "test-postgres")
	var got struct {
		Name     *string `json:"name"`
		Machines []struct {
			ID        *string `json:"id"`
			Region    *string `json:"region"`
			State     *string `json:"state"`
			Role      *string `json:"role"`
			PrivateIP *string `json:"private_ip"`
			Checks    *struct {
				Total   *int `json:"total"`
				Passing *int `json:"passing"`
			} `json:"checks"`
		} `json:"machines"`
	}
	out := mustRun(t, f, "status", "-a", "test-postgres", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.Name == nil || *got.Name != "test-postgres" || len(got.Machines) != 2 {
		t.Fatalf("unexpected status JSON:\n%s", out)
	}
	m := got.Machines[0]
	if m.ID == nil || *m.ID != "6b97fa06" || m.Region == nil || *m.Region != "iad" || m.State == nil || *m.State != "running" ||
		m.Role == nil || *m.Role != "leader" || m.PrivateIP == nil || *m.PrivateIP != "127.0.1.2" ||
		m.Checks == nil || m.Checks.Total == nil || *m.Checks.Total != 3 || m.Checks.Passing == nil || *m.Checks.Passing != 3 {
		t.Fatalf("unexpected machine JSON:\n%s", out)
	}
}

func TestReadCommandsOfferJSON(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	mustRun(t, f, "apps", "create", "web")
	for _, args := range [][]string{
		{"postgres", "list"}, {"status", "-a", "pg"}, {"machine", "list", "-a", "pg"}, {"machine", "status", "6b97fa06", "-a", "pg"},
		{"postgres", "users", "list", "-a", "pg"}, {"postgres", "db", "list", "-a", "pg"}, {"apps", "list"},
		{"secrets", "list", "-a", "web"}, {"apps", "env", "web"}, {"checks", "list", "-a", "pg"},
	} {
		out := mustRun(t, f, append(args, "--json")...)
		if !json.Valid([]byte(out)) {
			t.Fatalf("%v --json printed invalid JSON:\n%s", args, out)
		}
	}
}

func TestMachineStatusLayout(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "test-postgres")
	assertText(t, mustRun(t, f, "vm", "status", "da8141e7", "-a", "test-postgres"), `  ID            = da8141e7
  Version       = 0
  Region        = iad
  Desired       = run
  Status        = running (replica)
  Health Checks = 3 total, 3 passing
  Restarts      = 0
  Created       = 2021-02-10T23:21:23Z

Recent Events
TIMESTAMP            TYPE    MESSAGE
2021-02-10T23:21:23Z created machine created in iad with a 10 GB volume
2021-02-10T23:21:23Z started machine started

ID   SERVICE STATE   OUTPUT
vm   app     passing [✓] 20.68 GB (84.5%) free space on /data/
                     [✓] load averages: 0.00 0.00 0.00
                     [✓] memory: 0.0s waiting over the last 60s
                     [✓] cpu: 0.4s waiting over the last 60s
                     [✓] io: 0.0s waiting over the last 60s

pg   app     passing [✓] leader check: connected
                     [✓] replication lag: 246µs
                     [✓] connections: 7 used, 3 reserved, 100 max

role app     passing replica
`)
}

func TestMachineActions(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	assertText(t, mustRun(t, f, "machine", "stop", "6b97fa06", "-a", "pg"), "Machine 6b97fa06 stopped\n")
	out := mustRun(t, f, "status", "-a", "pg")
	if !strings.Contains(out, "6b97fa06 0       iad    stop    stopped") || !strings.Contains(out, "running (leader)") {
		t.Fatalf("stop not reflected:\n%s", out)
	}
	assertText(t, mustRun(t, f, "machine", "start", "6b97fa06", "-a", "pg"), "Machine 6b97fa06 started\n")
	f2 := fake.New()
	wantError(t, f2, runCLI(t, f2, runOpts{}, "machine", "kill", "XYZ", "-a", "pg"), `machine id "XYZ" is not valid`)
}

func TestScaleVMPrintsSeedBlock(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	assertText(t, mustRun(t, f, "scale", "vm", "dedicated-cpu-1x", "-a", "pg"),
		"Scaled VM Type to dedicated-cpu-1x\n      CPU Cores: 1\n         Memory: 2 GB\n")
	assertText(t, mustRun(t, f, "scale", "vm", "shared-cpu-1x", "-a", "pg"),
		"Scaled VM Type to shared-cpu-1x\n      CPU Cores: 1\n         Memory: 256 MB\n")
	f2 := fake.New()
	wantError(t, f2, runCLI(t, f2, runOpts{}, "scale", "vm", "huge", "-a", "pg"), `unknown VM size "huge"`)
}

func TestScaleCount(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scale", "count", "0", "-a", "pg"}, "count 0 refused: a cluster needs at least 1 machine"},
		{[]string{"scale", "count", "-1", "-a", "pg"}, "unknown shorthand flag"},
		{[]string{"scale", "count", "-a", "pg", "--", "-1"}, "count -1 refused"},
		{[]string{"scale", "count", "10", "-a", "pg"}, "cluster size 10 is out of range: choose 1 to 9"},
		{[]string{"scale", "count", "two", "-a", "pg"}, `count "two" is not a whole number`},
		{[]string{"scale", "count", "3", "-a", "pg", "--region", "xyz"}, `unknown region "xyz"`},
		{[]string{"scale", "count", "3"}, "--app (-a) is required"},
	} {
		f := fake.New()
		wantError(t, f, runCLI(t, f, runOpts{}, tc.args...), tc.want)
	}
	f := fake.New()
	seedCluster(t, f, "pg")
	assertText(t, mustRun(t, f, "scale", "count", "3", "-a", "pg", "--region", "syd"), "Count changed to 3\n")
	if out := mustRun(t, f, "machine", "list", "-a", "pg"); strings.Count(out, " syd ") != 1 {
		t.Fatalf("new replica not in syd:\n%s", out)
	}
}

func TestDestroyConfirmation(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	r := runCLI(t, f, runOpts{}, "postgres", "destroy", "pg")
	if r.runErr == nil || r.runErr.Error() != "--yes is required to destroy postgres cluster pg when not running interactively" {
		t.Fatalf("err = %v", r.runErr)
	}
	r = runCLI(t, f, runOpts{tty: true, stdin: "pgx\n"}, "postgres", "destroy", "pg")
	if r.runErr == nil || !strings.Contains(r.runErr.Error(), "nothing was destroyed") || f.Called("DestroyCluster") != 0 {
		t.Fatalf("mismatched confirmation: err %v, calls %v", r.runErr, f.Calls())
	}
	r = runCLI(t, f, runOpts{tty: true, stdin: "pg\n"}, "postgres", "destroy", "pg")
	if r.runErr != nil || r.out != "Destroyed postgres cluster pg\n" || !strings.Contains(r.err, "? Type the name (pg) to confirm: ") {
		t.Fatalf("err %v, out %q, prompt %q", r.runErr, r.out, r.err)
	}
	mustRun(t, f, "apps", "create", "web")
	assertText(t, mustRun(t, f, "apps", "destroy", "-a", "web", "--yes"), "Destroyed app web\n")
}

func TestFailoverAndRestart(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	assertText(t, mustRun(t, f, "postgres", "failover", "-a", "pg"),
		"Performing a failover of pg\nFailover complete: da8141e7 is the new leader (was 6b97fa06), took 1.5s\n")
	assertText(t, mustRun(t, f, "postgres", "restart", "-a", "pg"), "Restarting pg\nCluster pg restarted\n")
	r := runCLI(t, f, runOpts{}, "postgres", "failover", "-a", "nope")
	if r.runErr == nil || !strings.HasPrefix(r.runErr.Error(), `failover of nope: postgres cluster "nope" not found`) {
		t.Fatalf("err = %v", r.runErr)
	}
}
