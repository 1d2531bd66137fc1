package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
)

func TestBackupCreateListConfig(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "my-db")
	out := mustRun(t, f, "postgres", "backup", "create", "-a", "my-db", "--type", "diff")
	if !strings.Contains(out, "100% copied") || !strings.Contains(out, "D done in") {
		t.Fatalf("backup create printed:\n%s", out)
	}
	out = mustRun(t, f, "postgres", "backup", "list", "-a", "my-db")
	if !strings.Contains(out, "ID") || !strings.Contains(out, " full ") || !strings.Contains(out, " diff ") || !strings.Contains(out, "Restorable from ") {
		t.Fatalf("backup list printed:\n%s", out)
	}
	var l backend.BackupList
	if err := json.Unmarshal([]byte(mustRun(t, f, "postgres", "backup", "list", "-a", "my-db", "--json")), &l); err != nil || len(l.Backups) != 2 || l.Earliest.IsZero() {
		t.Fatalf("backup list --json: %+v %v", l, err)
	}
	out = mustRun(t, f, "postgres", "backup", "config", "-a", "my-db", "--schedule", "full=14d,diff=12h", "--retention-full", "3",
		"--s3-endpoint", "s3.example.com", "--s3-bucket", "b", "--s3-key", "AKID", "--s3-secret", "very-secret")
	if !strings.Contains(out, "full every 14d, differential every 12h0m0s") || !strings.Contains(out, "3 full backups") || !strings.Contains(out, "s3://b/my-db") {
		t.Fatalf("backup config printed:\n%s", out)
	}
	if strings.Contains(out, "very-secret") || strings.Contains(out, "AKID") {
		t.Fatal("backup config printed the S3 keys")
	}
}

// Bad input: one line, before the backend is used.
func TestBackupAndRestoreBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"postgres", "backup", "create", "-a", "my-db", "--type", "weekly"}, "use full, diff or incr"},
		{[]string{"postgres", "backup", "list"}, "--app (-a) is required"},
		{[]string{"postgres", "backup", "config", "-a", "my-db", "--schedule", "full=often"}, "not a duration"},
		{[]string{"postgres", "backup", "config", "-a", "my-db", "--retention-full", "0"}, "between 1 and 100"},
		{[]string{"postgres", "backup", "config", "-a", "my-db", "--s3-endpoint", "x"}, "S3 needs"},
		{[]string{"postgres", "restore", "-a", "my-db", "--latest"}, "--to is required"},
		{[]string{"postgres", "restore", "-a", "my-db", "--to", "Bad_Name", "--latest"}, "is not valid"},
		{[]string{"postgres", "restore", "-a", "my-db", "--to", "my-db", "--latest"}, "new cluster"},
		{[]string{"postgres", "restore", "-a", "my-db", "--to", "copy"}, "exactly one of --time, --backup or --latest"},
		{[]string{"postgres", "restore", "-a", "my-db", "--to", "copy", "--time", "yesterday"}, "--time \"yesterday\""},
	} {
		f := fake.New()
		wantError(t, f, runCLI(t, f, runOpts{}, c.args...), c.want)
	}
}

func TestRestoreChecksTheWindowAndDeploys(t *testing.T) {
	f := fake.New()
	seedCluster(t, f, "my-db")
	r := runCLI(t, f, runOpts{}, "postgres", "restore", "-a", "my-db", "--to", "copy", "--time", "2001-01-01 00:00:00+00")
	if r.runErr == nil || !strings.Contains(r.runErr.Error(), "outside the restorable window") {
		t.Fatalf("restore to a time before any backup: %v", r.runErr)
	}
	out := mustRun(t, f, "postgres", "restore", "-a", "my-db", "--to", "copy", "--latest")
	if !strings.Contains(out, "Restoring my-db into the new cluster copy") || !strings.Contains(out, "deployed successfully") {
		t.Fatalf("restore printed:\n%s", out)
	}
}
