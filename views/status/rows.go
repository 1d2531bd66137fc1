package status

import (
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// columns are the machine table's headers.
var columns = []string{"ID", "Region", "Role", "State", "Checks", "Lag", "Conns", "Restarts", "Uptime"}

// hostColumns are the headers for a cluster on external hosts: each
// member's address instead of a region, no restarts or uptime.
var hostColumns = []string{"ID", "Address", "Role", "State", "Checks", "Lag", "Conns"}

// roleCol is the column the leader is highlighted in (both layouts).
const roleCol = 2

// rows turns machines into table rows; now dates the uptimes.
func rows(ms []backend.MachineStatus, now time.Time) [][]string {
	out := make([][]string, len(ms))
	for i, m := range ms {
		role, lag := m.Role, views.Bytes(m.LagBytes)
		if role == "" {
			role = "-"
		}
		if m.Role == "leader" {
			lag = "-"
		}
		checks := fmt.Sprintf("%d/%d", m.Checks.Passing, m.Checks.Total)
		if m.Checks.Critical > 0 {
			checks += fmt.Sprintf(" (%d crit)", m.Checks.Critical)
		}
		uptime := "-"
		if m.State == "running" && !m.Started.IsZero() {
			uptime = views.Duration(now.Sub(m.Started))
		}
		conns := "-"
		if m.Connections >= 0 {
			conns = fmt.Sprint(m.Connections)
		}
		out[i] = []string{m.ID, m.Region, role, m.State, checks, lag, conns, fmt.Sprint(m.Restarts), uptime}
	}
	return out
}

// hostRows turns the members of a cluster on external hosts into rows.
func hostRows(ms []backend.MachineStatus) [][]string {
	full := rows(ms, time.Time{})
	out := make([][]string, len(ms))
	for i, m := range ms {
		addr := m.PrivateIP
		if addr == "" {
			addr = "-"
		}
		r := full[i] // ID Region Role State Checks Lag Conns Restarts Uptime
		out[i] = []string{r[0], addr, r[2], r[3], r[4], r[5], r[6]}
	}
	return out
}

// standby describes the sync standby line of the header.
func standby(st *backend.ClusterStatus) string {
	switch {
	case st.SyncStandby != "":
		return st.SyncStandby
	case st.Async:
		return "none (asynchronous commits)"
	}
	return "none"
}

// leaderText names the leader, or says there is none (during a failover).
func leaderText(id string) string {
	if id == "" {
		return "none (electing)"
	}
	return id
}
