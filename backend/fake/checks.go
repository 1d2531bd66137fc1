package fake

import (
	"context"
	"sort"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// CheckTime is the moment the fake's check ages are measured from: pass
// it as the CLI's clock and `checks list` shows the seed's "14s ago".
func CheckTime() time.Time { return time.Date(2021, 2, 19, 22, 54, 49, 0, time.UTC) }

// Checks reports the seed's checks for every running machine (the
// leader's and a replica's figures from the seed's `checks list`) and
// each check critical, unreachable, for a stopped one; by machine id.
func (b *Backend) Checks(_ context.Context, name string) ([]backend.Check, error) {
	b.record("Checks")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	ms := append([]*machine(nil), c.machines...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].status.ID < ms[j].status.ID })
	out := []backend.Check{}
	for _, m := range ms {
		out = append(out, c.checks(m)...)
	}
	return out, nil
}

func (c *cluster) checks(m *machine) []backend.Check {
	s := c.machineStatus(m)
	mk := func(name, status string, updated time.Time, lines ...string) backend.Check {
		return backend.Check{Machine: s.ID, Region: s.Region, Name: name, Status: status, Output: lines, Updated: updated}
	}
	at := CheckTime()
	switch s.Role {
	case "leader":
		return []backend.Check{
			mk("vm", "passing", at.Add(-14*time.Second), "[✓] 20.66 GB (84.4%) free space on /data/", "[✓] load averages: 0.31 0.37 0.32",
				"[✓] memory: 1.1s waiting over the last 60s", "[✓] cpu: 9.4s waiting over the last 60s", "[✓] io: 0.1s waiting over the last 60s"),
			mk("pg", "passing", at.Add(-(2*time.Minute + 53*time.Second)), "[✓] replication: currently leader", "[✓] connections: 31 used, 3 reserved, 100 max"),
			mk("role", "passing", time.Date(2021, 2, 15, 22, 49, 38, 0, time.UTC), "leader"),
		}
	case "replica":
		return []backend.Check{
			mk("vm", "passing", at.Add(-(time.Minute + 12*time.Second)), "[✓] 20.68 GB (84.5%) free space on /data/", "[✓] load averages: 0.00 0.00 0.00",
				"[✓] memory: 0.0s waiting over the last 60s", "[✓] cpu: 0.4s waiting over the last 60s", "[✓] io: 0.0s waiting over the last 60s"),
			mk("pg", "passing", at.Add(-(5*time.Minute + 36*time.Second)), "[✓] leader check: connected", "[✓] replication lag: 246µs",
				"[✓] connections: 7 used, 3 reserved, 100 max"),
			mk("role", "passing", time.Date(2021, 2, 15, 22, 49, 36, 0, time.UTC), "replica"),
		}
	}
	since := s.Created
	if n := len(m.events); n > 0 {
		since = m.events[n-1].Time
	}
	var out []backend.Check
	for _, name := range []string{"vm", "pg", "role"} {
		out = append(out, mk(name, "critical", since, "[✗] unreachable: machine is not running"))
	}
	return out
}
