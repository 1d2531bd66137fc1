package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// proc supervises one machine's `pgtui node` process: it restarts it with
// backoff when it exits, until stopped.
type proc struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	pid     int
	started time.Time // when the running node started; zero when none runs
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pid > 0 {
		_ = syscall.Kill(p.pid, sig)
	}
}

// since is when the running node started, zero when none runs.
func (p *proc) since() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid > 0
}

// resumeMachines starts every machine whose desired state is run.
func (a *Agent) resumeMachines() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.state.Clusters {
		for _, m := range c.Machines {
			if m.Desired == "run" {
				a.startMachineLocked(c, m)
			}
		}
	}
}

// startMachineLocked starts a machine's supervisor; a.mu is held.
func (a *Agent) startMachineLocked(c *Cluster, m *Machine) {
	if p := a.procs[m.ID]; p != nil {
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	p := &proc{cancel: cancel, done: make(chan struct{})}
	a.procs[m.ID] = p
	m.Desired = "run"
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(p.done)
		a.supervise(ctx, c.Name, m.ID, p)
	}()
}

// stopMachine stops a machine cleanly (SIGTERM, then SIGKILL after 30s)
// and waits for its supervisor.
func (a *Agent) stopMachine(id string) {
	a.mu.Lock()
	p := a.procs[id]
	delete(a.procs, id)
	a.mu.Unlock()
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}

func (a *Agent) stopAllMachines() {
	a.mu.Lock()
	ids := make([]string, 0, len(a.procs))
	for id := range a.procs {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); a.stopMachine(id) }()
	}
	wg.Wait()
}

// supervise runs the node until ctx ends, restarting it with backoff.
func (a *Agent) supervise(ctx context.Context, cluster, id string, p *proc) {
	backoff := time.Second
	for ctx.Err() == nil {
		cmd, err := a.nodeCommand(cluster, id)
		if err != nil {
			a.machineEvent(cluster, id, "exited", err.Error())
			return
		}
		started := time.Now()
		if err := cmd.Start(); err != nil {
			a.machineEvent(cluster, id, "exited", fmt.Sprintf("start failed: %v", err))
			return
		}
		p.mu.Lock()
		p.pid, p.started = cmd.Process.Pid, started
		p.mu.Unlock()
		a.machineEvent(cluster, id, "started", "machine started")
		waitErr := waitOrStop(ctx, cmd)
		p.mu.Lock()
		p.pid, p.started = 0, time.Time{}
		p.mu.Unlock()
		closeLog(cmd)
		a.machineEvent(cluster, id, "exited", exitMessage(waitErr))
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > 30*time.Second {
			backoff = time.Second
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
		a.countRestart(cluster, id)
	}
}

// waitOrStop waits for the node; when ctx ends it asks it to stop
// (SIGTERM, so postgres shuts down cleanly), killing it after 30 s.
func waitOrStop(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return <-done
	}
}

func exitMessage(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exited with code 0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("killed by signal %s", ws.Signal())
		}
		return fmt.Sprintf("exited with code %d", ee.ExitCode())
	default:
		return err.Error()
	}
}

// nodeCommand builds the machine's `pgtui node` command line. A machine
// whose volume vanished gets a new, empty one and rejoins as a replica.
func (a *Agent) nodeCommand(cluster, id string) (*exec.Cmd, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.state.Clusters[cluster]
	m := c.machine(id)
	if m == nil {
		return nil, fmt.Errorf("machine %s is gone", id)
	}
	if _, err := os.Stat(m.Volume); errors.Is(err, os.ErrNotExist) {
		if err := makeVolume(m.Volume); err != nil {
			return nil, err
		}
		if len(m.Events) > 1 {
			m.event("replaced", "volume was gone: machine replaced with an empty volume; it rejoins as a replica")
			_ = a.save()
		}
	}
	size, _ := backend.LookupVMSize(m.VMSize)
	if err := ensureCA(a.cfg.Home, c.Name); err != nil {
		return nil, err
	}
	args := []string{"node", "--name", m.ID, "--cluster", c.Name, "--data-dir", m.Volume, "--listen", m.IP,
		"--etcd-endpoints", joinComma(a.etcdEndpoints()), "--secrets-file", secretsPath(a.cfg.Home, c.Name),
		"--tls-ca-file", caPath(a.cfg.Home, c.Name), "--tls-ca-key-file", caKeyPath(a.cfg.Home, c.Name),
		"--memory-mb", strconv.Itoa(size.MemoryMB), "--health-port", strconv.Itoa(healthPort), "--metrics-port", strconv.Itoa(metricsPort)}
	args = append(args, a.backupArgs(c)...)
	cmd := exec.Command(a.cfg.Bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := openLog(a.cfg.Home, m.ID)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	return cmd, nil
}

func (a *Agent) machineEvent(cluster, id, typ, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.state.Clusters[cluster]; c != nil {
		if m := c.machine(id); m != nil {
			m.event(typ, msg)
			if err := a.save(); err != nil {
				a.log.Warn("save state", "err", err)
			}
		}
	}
	a.log.Info("machine event", "cluster", cluster, "machine", id, "type", typ, "message", msg)
}

func (a *Agent) countRestart(cluster, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.state.Clusters[cluster]; c != nil {
		if m := c.machine(id); m != nil {
			m.Restarts++
			m.event("restarted", fmt.Sprintf("restart #%d", m.Restarts))
			_ = a.save()
		}
	}
}

func (c *Cluster) machine(id string) *Machine {
	if c == nil {
		return nil
	}
	for _, m := range c.Machines {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func makeVolume(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create volume %s: %w", dir, err)
	}
	return nil
}

func secretsPath(home, cluster string) string {
	return filepath.Join(home, "clusters", cluster, "secrets.env")
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
