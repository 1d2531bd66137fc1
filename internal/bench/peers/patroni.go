package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// Patroni's timing: the tightest its rules allow. Debian's Patroni 3.0.2
// validator only checks that these are integers; Patroni documents (and
// from 3.1 enforces) the minimums ttl 20, loop_wait 1, retry_timeout 3 and
// the rule loop_wait + 2*retry_timeout <= ttl (1 + 6 <= 20). So: ttl 20
// (its leader key, hence failure detection after a crash, lasts 20 s),
// loop_wait 1 (the HA loop runs every second, the fastest reaction to a
// switchover or a vanished key) and retry_timeout 3 (the shortest store
// or postgres hiccup it rides out without demoting).
const (
	patroniTTL          = 20
	patroniLoopWait     = 1
	patroniRetryTimeout = 3
)

type patroniNode struct {
	name     string
	host     string
	pgPort   int
	restPort int
	dir      string // config, log; data below
	proc     *proc
}

func (n *patroniNode) pgdata() string { return filepath.Join(n.dir, "data") }
func (n *patroniNode) config() string { return filepath.Join(n.dir, "patroni.yml") }
func (n *patroniNode) api() string {
	return "http://" + net.JoinHostPort(n.host, strconv.Itoa(n.restPort))
}

// patroniSystem: Debian's etcd-server, three Patroni 3.0.2 nodes in
// synchronous_mode, and HAProxy sending clients to the node whose REST
// API answers 200 on /primary (Patroni's documented HAProxy setup).
type patroniSystem struct {
	dir     string
	ru      *pg.RunAs
	etcd    *proc
	nodes   []*patroniNode
	haproxy *proc
	haAddr  string
	http    *http.Client
}

func startPatroni(ctx context.Context, dir string, ru *pg.RunAs) (_ *patroniSystem, err error) {
	for _, b := range []string{"etcd", "patroni", "haproxy"} {
		if _, err := exec.LookPath(b); err != nil {
			return nil, fmt.Errorf("%s not found: make bench installs it (apt-get install etcd-server patroni haproxy)", b)
		}
	}
	s := &patroniSystem{dir: dir, ru: ru, http: &http.Client{Timeout: 2 * time.Second}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := mkdirFor(dir, ru); err != nil {
		return nil, err
	}
	// etcd on a loopback address of its own.
	eh := freeport.Loopback()
	ep, err := freeport.TCP(eh, 2)
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("http://%s:%d", eh, ep[0])
	peer := fmt.Sprintf("http://%s:%d", eh, ep[1])
	s.etcd, err = start("etcd", filepath.Join(dir, "etcd.log"), nil, nil, "etcd", "--name", "peers",
		"--data-dir", filepath.Join(dir, "etcd"), "--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "peers="+peer)
	if err != nil {
		return nil, err
	}
	if err := until(ctx, 30*time.Second, "etcd", func(context.Context) (bool, error) {
		resp, err := s.http.Get(client + "/health")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	}); err != nil {
		return nil, err
	}
	for i := 1; i <= 3; i++ {
		h := freeport.Loopback()
		ports, err := freeport.TCP(h, 2)
		if err != nil {
			return nil, err
		}
		n := &patroniNode{name: fmt.Sprintf("p%d", i), host: h, pgPort: ports[0], restPort: ports[1], dir: filepath.Join(dir, fmt.Sprintf("p%d", i))}
		if err := mkdirFor(n.dir, ru); err != nil {
			return nil, err
		}
		if err := os.WriteFile(n.config(), []byte(patroniConfig(n, fmt.Sprintf("%s:%d", eh, ep[0]))), 0o600); err != nil {
			return nil, err
		}
		if err := chownTree(n.config(), ru); err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, n)
		if err := s.startNode(n); err != nil {
			return nil, err
		}
		if i == 1 {
			// The first bootstraps; the others clone from it.
			if err := until(ctx, 2*time.Minute, "patroni p1 primary", func(ctx context.Context) (bool, error) {
				return s.status(ctx, n.api()+"/primary") == 200, nil
			}); err != nil {
				return nil, fmt.Errorf("%w\n%s", err, tail(filepath.Join(n.dir, "patroni.log"), 30))
			}
		}
	}
	if err := s.startHAProxy(); err != nil {
		return nil, err
	}
	if err := until(ctx, 3*time.Minute, "patroni healthy", s.Healthy); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(filepath.Join(s.nodes[2].dir, "patroni.log"), 30))
	}
	if err := until(ctx, time.Minute, "table through haproxy", func(ctx context.Context) (bool, error) {
		return createTable(ctx, s.URL()) == nil, nil
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func patroniConfig(n *patroniNode, etcd string) string {
	return fmt.Sprintf(`scope: peers
namespace: /peers/
name: %[1]s
restapi:
  listen: %[2]s:%[4]d
  connect_address: %[2]s:%[4]d
etcd3:
  hosts: %[5]s
bootstrap:
  dcs:
    ttl: %[7]d
    loop_wait: %[8]d
    retry_timeout: %[9]d
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_log_hints: 'on'
        max_connections: 50
  initdb:
  - encoding: UTF8
  pg_hba:
  - local all all trust
  - host all all 127.0.0.0/8 trust
  - host replication all 127.0.0.0/8 trust
postgresql:
  listen: %[2]s:%[3]d
  connect_address: %[2]s:%[3]d
  data_dir: %[6]s/data
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: %[6]s/pgpass
  authentication:
    replication:
      username: replicator
      password: bench
    superuser:
      username: postgres
      password: bench
  parameters:
    unix_socket_directories: %[6]s
`, n.name, n.host, n.pgPort, n.restPort, etcd, n.dir, patroniTTL, patroniLoopWait, patroniRetryTimeout)
}

func (s *patroniSystem) startNode(n *patroniNode) error {
	p, err := start("patroni "+n.name, filepath.Join(n.dir, "patroni.log"), s.ru, nil, "patroni", n.config())
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// startHAProxy: Patroni's documented haproxy.cfg (an httpchk of /primary on
// the REST port, shutdown-sessions when a server is marked down), with the
// checks tightened from its inter 3s fall 3 rise 2 to every 500 ms, down
// after 2 failures, up after 1 success.
func (s *patroniSystem) startHAProxy() error {
	h := freeport.Loopback()
	ports, err := freeport.TCP(h, 1)
	if err != nil {
		return err
	}
	s.haAddr = net.JoinHostPort(h, strconv.Itoa(ports[0]))
	var b bytes.Buffer
	fmt.Fprintf(&b, `global
  maxconn 200
defaults
  mode tcp
  retries 2
  timeout client 30m
  timeout connect 1s
  timeout server 30m
  timeout check 1s
listen primary
  bind %s
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
`, s.haAddr)
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "  server %s %s:%d maxconn 100 check port %d\n", n.name, n.host, n.pgPort, n.restPort)
	}
	path := filepath.Join(s.dir, "haproxy.cfg")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return err
	}
	s.haproxy, err = start("haproxy", filepath.Join(s.dir, "haproxy.log"), nil, nil, "haproxy", "-f", path, "-db")
	return err
}

func (s *patroniSystem) Name() string { return "Patroni" }

func (s *patroniSystem) URL() string {
	return "postgres://postgres@" + s.haAddr + "/postgres?sslmode=disable&connect_timeout=3"
}

func (s *patroniSystem) status(ctx context.Context, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

type patroniMember struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
	Lag   any    `json:"lag"`
}

// cluster reads GET /cluster from the first node that answers.
func (s *patroniSystem) cluster(ctx context.Context) ([]patroniMember, error) {
	var last error
	for _, n := range s.nodes {
		if n.proc == nil || !n.proc.alive() {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.api()+"/cluster", nil)
		if err != nil {
			return nil, err
		}
		resp, err := s.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		var c struct {
			Members []patroniMember `json:"members"`
		}
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		return c.Members, nil
	}
	if last == nil {
		last = errors.New("no patroni running")
	}
	return nil, last
}

// Healthy: a running leader, a running sync standby and a running replica,
// both caught up, and HAProxy's chosen node answering /primary.
func (s *patroniSystem) Healthy(ctx context.Context) (bool, error) {
	ms, err := s.cluster(ctx)
	if err != nil {
		return false, err
	}
	var leader, syncs, replicas int
	var leaderName string
	for _, m := range ms {
		if m.State != "running" {
			return false, nil
		}
		switch m.Role {
		case "leader":
			leader++
			leaderName = m.Name
		case "sync_standby", "replica":
			if lag, ok := m.Lag.(float64); !ok || lag > 1<<20 {
				return false, nil
			}
			replicas++
			if m.Role == "sync_standby" {
				syncs++
			}
		}
	}
	if leader != 1 || syncs != 1 || replicas != 2 {
		return false, nil
	}
	for _, n := range s.nodes {
		if n.name == leaderName {
			return s.status(ctx, n.api()+"/primary") == 200, nil
		}
	}
	return false, nil
}

func (s *patroniSystem) leader(ctx context.Context) (*patroniNode, error) {
	ms, err := s.cluster(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Role == "leader" {
			for _, n := range s.nodes {
				if n.name == m.Name {
					return n, nil
				}
			}
		}
	}
	return nil, errors.New("patroni: no leader")
}

func (s *patroniSystem) Inject(ctx context.Context, f fault) (func(context.Context) error, time.Duration, error) {
	l, err := s.leader(ctx)
	if err != nil {
		return nil, 0, err
	}
	switch f {
	case faultKill:
		pid, err := postmasterPid(l.pgdata())
		if err != nil {
			return nil, 0, err
		}
		l.proc.kill()
		if err := killPostmaster(l.pgdata()); err != nil {
			return nil, 0, err
		}
		return func(ctx context.Context) error {
			if err := waitPostmasterGone(ctx, pid); err != nil {
				return err
			}
			return s.startNode(l)
		}, 0, nil
	case faultStop:
		// Patroni is one process (its postgres runs in a session of its own).
		if err := l.proc.signal(syscall.SIGSTOP); err != nil {
			return nil, 0, err
		}
		return func(context.Context) error { return l.proc.signal(syscall.SIGCONT) }, patroniTTL*time.Second + 2*time.Second, nil
	case faultSwitchover:
		body, _ := json.Marshal(map[string]string{"leader": l.name})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.api()+"/switchover", bytes.NewReader(body))
		if err != nil {
			return nil, 0, err
		}
		// Patroni answers when the switchover is done.
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			return nil, 0, err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, 0, fmt.Errorf("patroni switchover: HTTP %d", resp.StatusCode)
		}
		return nil, 0, nil
	}
	return nil, 0, errors.New("unknown fault")
}

func (s *patroniSystem) Close() {
	for _, n := range s.nodes {
		if n.proc != nil {
			n.proc.stop(15 * time.Second)
		}
		_ = killPostmaster(n.pgdata())
	}
	s.haproxy.stop(5 * time.Second)
	s.etcd.stop(5 * time.Second)
}

func (s *patroniSystem) Logs() string {
	var b strings.Builder
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "==== patroni %s\n%s\n", n.name, tail(filepath.Join(n.dir, "patroni.log"), 25))
	}
	return b.String()
}
