package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-isatty"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/pgtui/pgtui/tui"
	"github.com/pgtui/pgtui/views"
)

// errNoTerminal is `pgtui` without a terminal to draw on.
var errNoTerminal = errors.New("the cockpit needs a terminal: run it in one, or use a command (see `pgtui --help`)")

// runCockpit opens the full-screen cockpit on the platform.
func runCockpit(ctx context.Context, d *deps) error {
	if !isTerminal(d.In) || !isTerminal(d.Out) {
		return errNoTerminal
	}
	targets := newPSQLTargets(exec.LookPath)
	if exe, err := os.Executable(); err == nil {
		// Clusters created earlier: psql through the WireGuard tunnel.
		targets.viaTunnel = connectCommand(exe)
	}
	// The platform is reached after the first frame: starting the local
	// agent takes up to a second, and the cockpit says so meanwhile.
	o := tui.Options{Connect: func() (backend.Backend, error) { return connectCockpit(d) }, PSQLTarget: targets.Command,
		OnCredentials: targets.Remember, WireGuard: func() (api.WireGuard, error) { return d.tunnels() }}
	// OSC 52 copies go to stderr when it is the terminal, never through
	// the renderer's stdout; otherwise the copy key says it cannot copy.
	if isTerminal(d.Err) {
		o.Clipboard = d.Err
	}
	m := tui.New(o)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx),
		tea.WithInput(d.In), tea.WithOutput(d.Out))
	if _, err := p.Run(); err != nil && !(errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil) {
		return fmt.Errorf("cockpit: %w", err)
	}
	return nil
}

// connectCockpit reaches the platforms before the first pane: the local
// one is started here (under the cockpit's spinner) rather than on the
// first list. When it cannot start, registered external clusters are
// still operated; with none, its error is the cockpit's.
func connectCockpit(d *deps) (backend.Backend, error) {
	b, err := d.backend()
	if err != nil {
		return nil, err
	}
	r, ok := b.(localRouter)
	if !ok {
		return b, nil
	}
	if _, err := r.Local(); err != nil {
		if reg, rerr := d.registry(); rerr == nil {
			if names, _ := reg.Names(); len(names) > 0 {
				return b, nil
			}
		}
		return nil, fmt.Errorf("connect to the platform: %w", err)
	}
	return b, nil
}

// isTerminal reports whether a stream of deps is a terminal.
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// psqlTargets remembers the credentials of the clusters created in this
// session (the only time the platform reveals a password) and builds
// psql commands from them.
type psqlTargets struct {
	lookPath func(string) (string, error)
	// viaTunnel, when set, reaches a cluster whose password this session
	// never saw: `pgtui postgres connect` through the tunnel.
	viaTunnel func(views.PSQLMsg) *exec.Cmd
	mu        sync.Mutex
	creds     map[string]backend.Credentials
}

func newPSQLTargets(lookPath func(string) (string, error)) *psqlTargets {
	return &psqlTargets{lookPath: lookPath, creds: map[string]backend.Credentials{}}
}

// Remember keeps a new cluster's credentials in memory for psql.
func (s *psqlTargets) Remember(cluster string, c backend.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[cluster] = c
}

// Command is psql on a cluster's leader, or on one machine's own
// postgres: directly for a cluster created in this session, else through
// the tunnel.
func (s *psqlTargets) Command(p views.PSQLMsg) (*exec.Cmd, error) {
	s.mu.Lock()
	c, ok := s.creds[p.Cluster]
	s.mu.Unlock()
	if !ok && s.viaTunnel != nil {
		if _, err := s.lookPath("psql"); err != nil {
			return nil, errors.New("psql is not installed: install the PostgreSQL client (`make deps`)")
		}
		return s.viaTunnel(p), nil
	}
	if !ok {
		return nil, fmt.Errorf("no password for %s in this session: it is shown only when the cluster is created; run psql with the URL you saved", p.Cluster)
	}
	path, err := s.lookPath("psql")
	if err != nil {
		return nil, errors.New("psql is not installed: install the PostgreSQL client (`make deps`)")
	}
	if p.Machine != "" {
		if p.Addr == "" {
			return nil, fmt.Errorf("machine %s has no address yet", p.Machine)
		}
		return psqlCommandAt(path, c, net.JoinHostPort(p.Addr, strconv.Itoa(machinePGPort)))
	}
	return psqlCommandAt(path, c, "")
}

// connectCommand is `pgtui postgres connect` (psql through the tunnel) on
// the leader or the machine p names.
func connectCommand(exe string) func(p views.PSQLMsg) *exec.Cmd {
	return func(p views.PSQLMsg) *exec.Cmd {
		args := []string{"postgres", "connect", "-a", p.Cluster}
		if p.Machine != "" {
			args = append(args, "--machine", p.Machine)
		}
		return exec.Command(exe, args...)
	}
}

// psqlCommandAt runs psql on the URL that reaches the cluster from this
// machine, with its host:port replaced by hostPort when that is set. The
// password travels in PGPASSWORD, not in the arguments that any user can
// read in the process list.
func psqlCommandAt(path string, c backend.Credentials, hostPort string) (*exec.Cmd, error) {
	raw := c.LocalURL
	if raw == "" {
		raw = render.ConnectionString(c)
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil, fmt.Errorf("connection URL of %s is not usable", c.Hostname)
	}
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	if hostPort != "" {
		u.Host = hostPort
	}
	cmd := exec.Command(path, u.String())
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	return cmd, nil
}
