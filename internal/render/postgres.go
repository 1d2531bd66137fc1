package render

import (
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/pgtui/pgtui/backend"
)

// Credentials prints the block `postgres create` shows once, exactly as
// flyctl does (including its "PG Port:" with a single space), so users
// who know Fly recognise it and scripts written for it keep working.
func Credentials(w io.Writer, cluster string, c backend.Credentials) error {
	_, err := fmt.Fprintf(w, `Postgres cluster %s created
  Username:    %s
  Password:    %s
  Hostname:    %s
  Proxy Port:  %d
  PG Port: %d
Save your credentials in a secure place, you won't be able to see them again!
`, cluster, c.Username, c.Password, c.Hostname, c.ProxyPort, c.PGPort)
	return err
}

// MonitorLine is one deployment monitor line:
// "2 desired, 2 placed, 2 healthy, 0 unhealthy [health checks: 6 total, 6 passing]".
func MonitorLine(ev backend.CreateEvent) string {
	return fmt.Sprintf("%d desired, %d placed, %d healthy, %d unhealthy [health checks: %d total, %d passing]",
		ev.Desired, ev.Placed, ev.Healthy, ev.Unhealthy, ev.ChecksTotal, ev.ChecksPassing)
}

// DeployedLine is the monitor's last line, "--> v0 deployed successfully";
// the backend may word the message itself.
func DeployedLine(ev backend.CreateEvent) string {
	msg := ev.Message
	if msg == "" {
		msg = "v0 deployed successfully"
	}
	return "--> " + msg
}

// ConnectionString is the URL any app of the organization can use: the
// superuser through the proxy port of <cluster>.internal.
func ConnectionString(c backend.Credentials) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(c.Username, c.Password),
		Host: c.Hostname + ":" + strconv.Itoa(c.ProxyPort)}
	if c.CAFile != "" {
		u.Path = "/postgres"
		u.RawQuery = url.Values{"sslmode": {"verify-full"}, "sslrootcert": {c.CAFile}}.Encode()
	}
	return u.String()
}

// Connect prints the seed's "Connect to postgres" paragraph and, beside
// its private-network example, the URL that works from this machine.
func Connect(w io.Writer, org string, c backend.Credentials) error {
	_, err := fmt.Fprintf(w, `Connect to postgres
Any app within the %s organization can connect to postgres using the above credentials and the hostname "%s."
For example: %s
`, org, c.Hostname, ConnectionString(c))
	if err != nil || c.LocalURL == "" {
		return err
	}
	_, err = fmt.Fprintf(w, "From this machine: %s\n", c.LocalURL)
	return err
}

// HealthChecks is the seed's "3 total, 3 passing" (", 1 critical" when
// any check is critical).
func HealthChecks(c backend.Checks) string {
	s := fmt.Sprintf("%d total, %d passing", c.Total, c.Passing)
	if c.Critical > 0 {
		s += fmt.Sprintf(", %d critical", c.Critical)
	}
	return s
}

// MachineState is the seed's STATUS column: "running (leader)".
func MachineState(m backend.MachineStatus) string {
	if m.Role == "" {
		return m.State
	}
	return fmt.Sprintf("%s (%s)", m.State, m.Role)
}

// Instances is the deployment's "2 desired, 2 placed, 2 healthy, 0 unhealthy".
func Instances(d backend.Deployment) string {
	return fmt.Sprintf("%d desired, %d placed, %d healthy, %d unhealthy", d.Desired, d.Placed, d.Healthy, d.Unhealthy)
}
