package main

import (
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend/fake"
)

// TestConfigSSLOffAsks: turning TLS off explains why and what it costs
// and asks on a terminal; a "no" changes nothing, a script needs --yes.
func TestConfigSSLOffAsks(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "pg")
	r := runCLI(t, f, runOpts{}, "postgres", "config", "update", "-a", "pg", "--ssl=false")
	if r.runErr == nil || !strings.Contains(r.runErr.Error(), "--yes is required to turn TLS off") {
		t.Fatalf("without a terminal: %v", r.runErr)
	}
	r = runCLI(t, f, runOpts{tty: true, stdin: "no\n"}, "postgres", "config", "update", "-a", "pg", "--ssl=false")
	if r.runErr == nil || !strings.Contains(r.err, "what it costs") || !strings.Contains(r.err, "tunnel") {
		t.Fatalf("answer no: %v\n%s", r.runErr, r.err)
	}
	if r.out != "" {
		t.Fatalf("config changed after answering no:\n%s", r.out)
	}
	r = runCLI(t, f, runOpts{tty: true, stdin: "yes\n"}, "postgres", "config", "update", "-a", "pg", "--ssl=false")
	if r.runErr != nil {
		t.Fatal(r.runErr)
	}
	if !strings.Contains(r.out, "off") {
		t.Fatalf("TLS still on after yes:\n%s", r.out)
	}
	mustRun(t, f, "postgres", "config", "update", "-a", "pg", "--ssl=true")
	mustRun(t, f, "postgres", "config", "update", "-a", "pg", "--ssl=false", "--yes")
}
