package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startWait bounds how long Start waits for connections once postgres
// runs: a standby that needs WAL from an unreachable primary to become
// consistent would otherwise hold its caller indefinitely.
const startWait = 30 * time.Second

// Start stops a postmaster an earlier process of ours left on DataDir,
// runs `postgres -D DataDir` as a child (as RunAs, in its own process
// group, killed if our process dies) and waits until it accepts
// connections on the unix socket, it exits (error with its last log
// lines), ctx ends (error; postgres keeps running) or startWait passes
// (nil; a standby still waiting for WAL to become consistent).
// Starting a running instance does nothing.
func (i *Instance) Start(ctx context.Context) error {
	done, tail, err := i.launch(ctx)
	if err != nil {
		return fmt.Errorf("start postgres %s: %w", i.cfg.DataDir, err)
	}
	if done == nil {
		return nil
	}
	return i.waitReady(ctx, done, tail)
}

func (i *Instance) launch(ctx context.Context) (<-chan struct{}, *tailBuffer, error) {
	i.life.Lock()
	defer i.life.Unlock()
	if i.Running() {
		return nil, nil, nil
	}
	if !i.Initialized() {
		return nil, nil, errors.New("data dir not initialized")
	}
	sock := filepath.Join(i.cfg.SocketDir, ".s.PGSQL."+strconv.Itoa(i.cfg.Port))
	if len(sock) > 107 {
		return nil, nil, fmt.Errorf("unix socket path %s is longer than 107 bytes: use a shorter socket dir", sock)
	}
	if err := mkdirOwned(i.cfg.SocketDir, 0o700, i.cfg.RunAs); err != nil {
		return nil, nil, err
	}
	if err := i.stopStale(ctx); err != nil {
		return nil, nil, err
	}
	return i.spawn()
}

// spawn starts the postmaster; a monitor goroutine reaps it and closes
// done (it ends when the child does).
func (i *Instance) spawn() (<-chan struct{}, *tailBuffer, error) {
	cmd := command(i.cfg.RunAs, i.cfg.DataDir, i.cfg.Bin.Path("postgres"), "-D", i.cfg.DataDir)
	cmd.Dir = i.cfg.DataDir
	cmd.WaitDelay = 10 * time.Second // a stray child holding the log pipe
	tail := &tailBuffer{}
	w := io.MultiWriter(lenient{i.cfg.Log}, tail)
	cmd.Stdout, cmd.Stderr = w, w
	exited, err := startPinned(cmd)
	if err != nil {
		return nil, nil, err
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	i.mu.Lock()
	i.proc, i.done, i.tail, i.pendingRestart = cmd.Process, done, tail, false
	i.mu.Unlock()
	i.log.Info("postgres started", "pid", pid, "data", i.cfg.DataDir)
	go func() {
		err := <-exited
		i.log.Info("postgres exited", "pid", pid, "status", fmt.Sprint(err))
		close(done)
	}()
	return done, tail, nil
}

func (i *Instance) waitReady(ctx context.Context, done <-chan struct{}, tail *tailBuffer) error {
	deadline := time.NewTimer(startWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := i.Connect(cctx)
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			out := tail.String()
			if bindFailed(out) {
				addr := net.JoinHostPort(i.cfg.ListenHost, strconv.Itoa(i.cfg.Port))
				held := portHolders(i.cfg.ListenHost, i.cfg.Port)
				if held == "" {
					held = "no holder found"
				}
				return fmt.Errorf("start postgres %s: %w: %s (%s); stop what holds it or choose another --pg-port", i.cfg.DataDir, ErrPortInUse, addr, held)
			}
			return fmt.Errorf("start postgres %s: postgres exited during start:\n%s", i.cfg.DataDir, out)
		case <-ctx.Done():
			return fmt.Errorf("start postgres %s: %w (postgres left running)", i.cfg.DataDir, ctx.Err())
		case <-deadline.C:
			i.log.Warn("postgres running but not accepting connections yet", "after", startWait, "err", err)
			return nil
		case <-tick.C:
		}
	}
}

// lenient keeps a failing log writer from stalling postgres's output.
type lenient struct{ w io.Writer }

func (l lenient) Write(p []byte) (int, error) {
	_, _ = l.w.Write(p)
	return len(p), nil
}

// StopMode is how postgres shuts down.
type StopMode int

// Smart waits for clients; Fast disconnects them and checkpoints;
// Immediate aborts (crash recovery at next start).
const (
	StopSmart StopMode = iota
	StopFast
	StopImmediate
)

func (m StopMode) String() string {
	switch m {
	case StopSmart:
		return "smart"
	case StopFast:
		return "fast"
	case StopImmediate:
		return "immediate"
	}
	return fmt.Sprintf("StopMode(%d)", int(m))
}

// Stop shuts postgres down and waits for it to exit; when ctx ends first
// it kills it (Kill) and returns an error. No-op if not running.
func (i *Instance) Stop(ctx context.Context, mode StopMode) error {
	i.mu.Lock()
	proc, done := i.proc, i.done
	i.mu.Unlock()
	if proc == nil || isClosed(done) {
		return nil
	}
	var sig syscall.Signal
	switch mode {
	case StopSmart:
		sig = syscall.SIGTERM
	case StopFast:
		sig = syscall.SIGINT
	case StopImmediate:
		sig = syscall.SIGQUIT
	default:
		return fmt.Errorf("stop postgres %s: unknown mode %d", i.cfg.DataDir, mode)
	}
	i.log.Info("stopping postgres", "mode", mode, "pid", proc.Pid)
	if err := proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres %s: %w", i.cfg.DataDir, err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		i.Kill()
		return fmt.Errorf("stop postgres %s (%s): %w; killed", i.cfg.DataDir, mode, ctx.Err())
	}
}

// Kill stops the postmaster (SIGSTOP, so it forks no more), SIGKILLs its
// children, its process group and itself, and waits until it is reaped
// and its children are gone (up to 5 s for those). Backends are session
// leaders of their own, so the group alone is not enough to fence them.
// No-op if not running.
func (i *Instance) Kill() {
	i.mu.Lock()
	proc, done := i.proc, i.done
	i.mu.Unlock()
	if proc == nil || isClosed(done) {
		return
	}
	// os.Process signals through a pidfd: no risk of a reused pid.
	var kids []int
	if err := proc.Signal(syscall.SIGSTOP); err == nil {
		kids = killChildren(proc.Pid)
		_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
		_ = proc.Signal(syscall.SIGKILL)
	}
	i.log.Warn("postgres killed", "pid", proc.Pid)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, k := range kids {
		waitGone(ctx, k, 5*time.Second)
	}
}

// killChildren SIGKILLs every child of pid and each child's own group.
func killChildren(pid int) []int {
	kids := childrenOf(pid)
	for _, c := range kids {
		_ = syscall.Kill(-c, syscall.SIGKILL)
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	return kids
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(c); ok && ppid == pid {
			out = append(out, c)
		}
	}
	return out
}

// procStat reads a process's state letter and parent pid.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[k+1:])
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err == nil
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	st, _, ok := procStat(pid)
	return ok && st != 'Z' && st != 'X'
}
