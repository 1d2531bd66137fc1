package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// The monitor's health checks, tightened from their defaults (every 5 s,
// 5 s timeout, 2 retries 2 s apart, unhealthy after 20 s without a
// report) to pgtui's scale: every second, 1 s timeout, 1 retry after
// 500 ms, unhealthy after 3 s without a report from the node's keeper
// (which reports every second). pg_auto_failover has no validator for
// these; shorter made it fail over healthy nodes in trials.
var pafMonitorSettings = map[string]string{
	"pgautofailover.health_check_period":               "1000",
	"pgautofailover.health_check_timeout":              "1000",
	"pgautofailover.health_check_max_retries":          "1",
	"pgautofailover.health_check_retry_delay":          "500",
	"pgautofailover.node_considered_unhealthy_timeout": "3000",
}

type pafNode struct {
	name string
	host string
	port int
	proc *proc
}

// pafSystem: a pg_auto_failover 2.0 formation, a monitor and two nodes,
// each a `pg_autoctl run`. Its replication is synchronous by default
// (replication-quorum true, number_sync_standbys 0: with one standby,
// synchronous_standby_names names it while it is healthy). Clients use
// libpq multi-host with target_session_attrs=read-write.
type pafSystem struct {
	dir     string
	ru      *pg.RunAs
	env     []string
	monHost string
	monPort int
	monitor *proc
	nodes   []*pafNode
}

func startAutoFailover(ctx context.Context, dir string, ru *pg.RunAs) (_ *pafSystem, err error) {
	if _, err := exec.LookPath("pg_autoctl"); err != nil {
		return nil, errors.New("pg_autoctl not found: make bench installs it (apt-get install pg-auto-failover-cli postgresql-15-auto-failover)")
	}
	s := &pafSystem{dir: dir, ru: ru}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	home := filepath.Join(dir, "home")
	if err := mkdirFor(home, ru); err != nil {
		return nil, err
	}
	s.env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "PG_CONFIG=" + pgBin + "/pg_config"}
	if err := chownTree(dir, ru); err != nil {
		return nil, err
	}
	// The monitor listens on every address (create monitor has no
	// --listen); its port is one free on all of them.
	s.monHost = freeport.Loopback()
	mp, err := freeport.TCP("0.0.0.0", 1)
	if err != nil {
		return nil, err
	}
	s.monPort = mp[0]
	mon := filepath.Join(dir, "monitor")
	if err := run(ctx, "pg_autoctl create monitor", filepath.Join(dir, "monitor.log"), ru, s.env, "pg_autoctl", "create", "monitor",
		"--pgdata", mon, "--pgport", strconv.Itoa(s.monPort), "--hostname", s.monHost, "--skip-pg-hba", "--no-ssl",
		"--pgctl", pgBin+"/pg_ctl"); err != nil {
		return nil, err
	}
	if s.monitor, err = start("pg_autoctl monitor", filepath.Join(dir, "monitor.log"), ru, s.env, "pg_autoctl", "run", "--pgdata", mon); err != nil {
		return nil, err
	}
	if err := until(ctx, time.Minute, "pg_auto_failover monitor", func(ctx context.Context) (bool, error) {
		return s.tuneMonitor(ctx) == nil, nil
	}); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(filepath.Join(dir, "monitor.log"), 30))
	}
	for i := 1; i <= 2; i++ {
		h := freeport.Loopback()
		ports, err := freeport.TCP(h, 1)
		if err != nil {
			return nil, err
		}
		n := &pafNode{name: fmt.Sprintf("a%d", i), host: h, port: ports[0]}
		s.nodes = append(s.nodes, n)
		if err := run(ctx, "pg_autoctl create postgres "+n.name, s.logPath(n), ru, s.env, "pg_autoctl", "create", "postgres",
			"--pgdata", s.pgdata(n), "--pgport", strconv.Itoa(n.port), "--hostname", h, "--listen", h, "--name", n.name,
			"--skip-pg-hba", "--no-ssl", "--pgctl", pgBin+"/pg_ctl", "--monitor", s.monitorURL("autoctl_node", "pg_auto_failover")); err != nil {
			return nil, err
		}
		if err := s.startNode(n); err != nil {
			return nil, err
		}
		if i == 1 {
			if err := until(ctx, 2*time.Minute, "pg_auto_failover a1 single", func(ctx context.Context) (bool, error) {
				st, err := s.states(ctx)
				return err == nil && st["a1"] == "single/single", err
			}); err != nil {
				return nil, fmt.Errorf("%w\n%s", err, tail(s.logPath(n), 30))
			}
		}
	}
	if err := until(ctx, 3*time.Minute, "pg_auto_failover healthy", s.Healthy); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(s.logPath(s.nodes[1]), 30))
	}
	if err := until(ctx, time.Minute, "table through libpq multi-host", func(ctx context.Context) (bool, error) {
		return createTable(ctx, s.URL()) == nil, nil
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *pafSystem) pgdata(n *pafNode) string  { return filepath.Join(s.dir, n.name) }
func (s *pafSystem) logPath(n *pafNode) string { return filepath.Join(s.dir, n.name+".log") }

func (s *pafSystem) monitorURL(user, db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable&connect_timeout=3", user, s.monHost, s.monPort, db)
}

func (s *pafSystem) tuneMonitor(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.monitorURL("postgres", "pg_auto_failover"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for k, v := range pafMonitorSettings {
		// ALTER SYSTEM takes no parameters; k and v are constants above.
		if _, err := conn.Exec(cctx, fmt.Sprintf("ALTER SYSTEM SET %s = '%s'", k, v)); err != nil {
			return err
		}
	}
	_, err = conn.Exec(cctx, "SELECT pg_reload_conf()")
	return err
}

func (s *pafSystem) startNode(n *pafNode) error {
	p, err := start("pg_autoctl "+n.name, s.logPath(n), s.ru, s.env, "pg_autoctl", "run", "--pgdata", s.pgdata(n))
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// states maps node name to "reported/goal" state from the monitor.
func (s *pafSystem) states(ctx context.Context) (map[string]string, error) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.monitorURL("postgres", "pg_auto_failover"))
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(cctx, `SELECT nodename, reportedstate::text || '/' || goalstate::text FROM pgautofailover.node`)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for rows.Next() {
		var name, st string
		if err := rows.Scan(&name, &st); err != nil {
			return nil, err
		}
		m[name] = st
	}
	return m, rows.Err()
}

func (s *pafSystem) Name() string { return "pg_auto_failover" }

func (s *pafSystem) URL() string {
	hosts := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		hosts[i] = fmt.Sprintf("%s:%d", n.host, n.port)
	}
	return "postgres://postgres@" + strings.Join(hosts, ",") + "/postgres?sslmode=disable&connect_timeout=3&target_session_attrs=read-write"
}

// Healthy: one primary and one secondary, both where the monitor wants them.
func (s *pafSystem) Healthy(ctx context.Context) (bool, error) {
	st, err := s.states(ctx)
	if err != nil {
		return false, err
	}
	var p, sec int
	for _, v := range st {
		switch v {
		case "primary/primary":
			p++
		case "secondary/secondary":
			sec++
		}
	}
	return p == 1 && sec == 1 && len(st) == 2, nil
}

func (s *pafSystem) primary(ctx context.Context) (*pafNode, error) {
	st, err := s.states(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range s.nodes {
		if st[n.name] == "primary/primary" {
			return n, nil
		}
	}
	return nil, fmt.Errorf("pg_auto_failover: no primary (%v)", st)
}

func (s *pafSystem) Inject(ctx context.Context, f fault) (func(context.Context) error, time.Duration, error) {
	l, err := s.primary(ctx)
	if err != nil {
		return nil, 0, err
	}
	switch f {
	case faultKill:
		pid, err := postmasterPid(s.pgdata(l))
		if err != nil {
			return nil, 0, err
		}
		// The keeper's group: the supervisor, its node-active service and
		// postgres with its backends.
		l.proc.kill()
		if err := killPostmaster(s.pgdata(l)); err != nil {
			return nil, 0, err
		}
		return func(ctx context.Context) error {
			if err := waitPostmasterGone(ctx, pid); err != nil {
				return err
			}
			return s.startNode(l)
		}, 0, nil
	case faultStop:
		// Stop the keeper's pg_autoctl processes but not postgres, which
		// it runs in the same group.
		pids, err := managerPids(l.proc.cmd.Process.Pid)
		if err != nil {
			return nil, 0, err
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		hold := 2 * time.Second
		if v, err := strconv.Atoi(pafMonitorSettings["pgautofailover.node_considered_unhealthy_timeout"]); err == nil {
			hold += time.Duration(v) * time.Millisecond
		}
		return func(context.Context) error {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
			return nil
		}, hold, nil
	case faultSwitchover:
		// perform switchover waits for the new primary; the trial's clock
		// runs from before it.
		return nil, 0, run(ctx, "pg_autoctl perform switchover", filepath.Join(s.dir, "switchover.log"), s.ru, s.env,
			"pg_autoctl", "perform", "switchover", "--monitor", s.monitorURL("autoctl_node", "pg_auto_failover"), "--formation", "default")
	}
	return nil, 0, errors.New("unknown fault")
}

// managerPids: root and its descendants that are pg_autoctl, not postgres.
func managerPids(root int) ([]int, error) {
	var out []int
	var walk func(pid int) error
	walk = func(pid int) error {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			return err
		}
		if strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
			return nil
		}
		out = append(out, pid)
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
			for _, f := range strings.Fields(string(b)) {
				c, err := strconv.Atoi(f)
				if err == nil {
					_ = walk(c)
				}
			}
		}
		return nil
	}
	return out, walk(root)
}

func (s *pafSystem) Close() {
	for _, n := range s.nodes {
		if n.proc != nil {
			n.proc.stop(15 * time.Second)
		}
		_ = killPostmaster(s.pgdata(n))
	}
	s.monitor.stop(15 * time.Second)
	_ = killPostmaster(filepath.Join(s.dir, "monitor"))
}

func (s *pafSystem) Logs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "==== monitor\n%s\n", tail(filepath.Join(s.dir, "monitor.log"), 25))
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "==== %s\n%s\n", n.name, tail(s.logPath(n), 25))
	}
	return b.String()
}
