package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend/fake"
)

func TestChecksListLayout(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg-app")
	// The seed's rows (its header line was lost; flyctl's ALLOCATION
	// column is MACHINE here), ages against the fake's check clock.
	assertText(t, mustRun(t, f, "checks", "list", "-a", "pg-app"), `Health Checks for pg-app
NAME STATUS  MACHINE  REGION TYPE   LAST UPDATED         OUTPUT
vm   passing 6b97fa06 iad    SCRIPT 14s ago              [✓] 20.66 GB (84.4%) free
                                                         space on /data/ [✓] load
                                                         averages: 0.31 0.37 0.32 [✓]
                                                         memory: 1.1s waiting over the
                                                         last 60s [✓] cpu: 9.4s waiting
                                                         over the last 60s [✓] io: 0.1s
                                                         waiting over the last 60s
pg   passing 6b97fa06 iad    SCRIPT 2m53s ago            [✓] replication: currently
                                                         leader [✓] connections: 31
                                                         used, 3 reserved, 100 max
role passing 6b97fa06 iad    SCRIPT 2021-02-15T22:49:38Z leader
vm   passing da8141e7 iad    SCRIPT 1m12s ago            [✓] 20.68 GB (84.5%) free
                                                         space on /data/ [✓] load
                                                         averages: 0.00 0.00 0.00 [✓]
                                                         memory: 0.0s waiting over the
                                                         last 60s [✓] cpu: 0.4s waiting
                                                         over the last 60s [✓] io: 0.0s
                                                         waiting over the last 60s
pg   passing da8141e7 iad    SCRIPT 5m36s ago            [✓] leader check: connected
                                                         [✓] replication lag: 246µs
                                                         [✓] connections: 7 used, 3
                                                         reserved, 100 max
role passing da8141e7 iad    SCRIPT 2021-02-15T22:49:36Z replica
`)
	// A stopped machine's checks are critical: nothing answers for it.
	mustRun(t, f, "machine", "stop", "da8141e7", "-a", "pg-app")
	out := mustRun(t, f, "checks", "list", "-a", "pg-app")
	if !strings.Contains(out, "\nrole critical da8141e7 iad    SCRIPT 2021-02-10T23:21:") || !strings.HasSuffix(out, " [✗] unreachable: machine is\n                                                          not running\n") {
		t.Fatalf("stopped machine:\n%s", out)
	}
}

func TestChecksListValidatesFirst(t *testing.T) {
	f := fake.New()
	wantError(t, f, runCLI(t, f, runOpts{}, "checks", "list"), "--app (-a) is required")
	wantError(t, f, runCLI(t, f, runOpts{}, "checks", "list", "-a", "Bad_Name"), `--app: name "Bad_Name" is not valid`)
}

func TestChecksListJSON(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg-app")
	var got []struct {
		Machine, Region, Name, Status string
		Output                        []string
	}
	out := mustRun(t, f, "checks", "list", "-a", "pg-app", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 6 || got[0].Name != "vm" || got[5].Output[0] != "replica" {
		t.Fatalf("%v\n%s", err, out)
	}
}
