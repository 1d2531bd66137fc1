package render

import (
	"bytes"
	"testing"

	"github.com/pgtui/pgtui/backend"
)

var seedCreds = backend.Credentials{Username: "postgres", Password: "5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e",
	Hostname: "md-postgres-500.internal", ProxyPort: 5432, PGPort: 5433, LocalURL: "postgres://postgres:pw@127.0.1.2:5432/postgres"}

func TestCredentialsMatchesSeed(t *testing.T) {
	var b bytes.Buffer
	if err := Credentials(&b, "md-postgres-500", seedCreds); err != nil {
		t.Fatal(err)
	}
	want := `Postgres cluster md-postgres-500 created
  Username:    postgres
  Password:    5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e
  Hostname:    md-postgres-500.internal
  Proxy Port:  5432
  PG Port: 5433
Save your credentials in a secure place, you won't be able to see them again!
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestMonitorLines(t *testing.T) {
	ev := backend.CreateEvent{Desired: 2, Placed: 2, Healthy: 2, ChecksTotal: 6, ChecksPassing: 6, Done: true}
	if got, want := MonitorLine(ev), "2 desired, 2 placed, 2 healthy, 0 unhealthy [health checks: 6 total, 6 passing]"; got != want {
		t.Fatalf("MonitorLine = %q, want %q", got, want)
	}
	if got, want := DeployedLine(ev), "--> v0 deployed successfully"; got != want {
		t.Fatalf("DeployedLine = %q, want %q", got, want)
	}
}

func TestConnect(t *testing.T) {
	var b bytes.Buffer
	if err := Connect(&b, "personal", seedCreds); err != nil {
		t.Fatal(err)
	}
	want := `Connect to postgres
Any app within the personal organization can connect to postgres using the above credentials and the hostname "md-postgres-500.internal."
For example: postgres://postgres:5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e@md-postgres-500.internal:5432
From this machine: postgres://postgres:pw@127.0.1.2:5432/postgres
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTableAlignsColumns(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{
		{"2021-02-10T23:21:18Z", "Received", "Task received by client"},
		{"2021-02-10T23:21:48Z", "Task Setup", "Building Task Directory"},
	}
	if err := Table(&b, "Recent Events", rows, "Timestamp", "Type", "Message"); err != nil {
		t.Fatal(err)
	}
	want := `Recent Events
TIMESTAMP            TYPE       MESSAGE
2021-02-10T23:21:18Z Received   Task received by client
2021-02-10T23:21:48Z Task Setup Building Task Directory
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTableCountsDisplayWidth(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, "", [][]string{{"[✓] ok", "x"}, {"abcdefg", "y"}}); err != nil {
		t.Fatal(err)
	}
	if want := "[✓] ok  x\nabcdefg y\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestVerticalTable(t *testing.T) {
	var b bytes.Buffer
	kv := [][2]string{{"ID", "044e"}, {"Description", "Deployment completed successfully"}}
	if err := VerticalTable(&b, "Deployment Status", kv); err != nil {
		t.Fatal(err)
	}
	want := "Deployment Status\n  ID          = 044e\n  Description = Deployment completed successfully\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": 1\n}\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
