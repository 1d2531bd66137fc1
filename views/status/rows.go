package status

import (
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
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
		role, lag := m.Role, Bytes(m.LagBytes)
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
			uptime = Duration(now.Sub(m.Started))
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

// Duration is a compact age: 45s, 12m5s, 3h20m, 2d4h.
func Duration(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// Bytes is a compact byte count: 0 B, 512 B, 1.5 kB, 20.3 MB.
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
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
