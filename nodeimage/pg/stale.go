package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopStale deals with DataDir/postmaster.pid before a start. A live
// postmaster on our data dir (left by an earlier process of ours, say a
// node that was restarted) gets SIGQUIT, then SIGKILL after 5 s. A pid
// file naming a zombie (postgres counts it as alive) or a process that is
// not a postmaster of this data dir (pids are reused after a container
// restart) is removed, since postgres would refuse to start. When we
// cannot tell, postgres decides.
func (i *Instance) stopStale(ctx context.Context) error {
	if err := i.stopStalePostmaster(ctx); err != nil {
		return err
	}
	return i.clearSocketLock()
}

// clearSocketLock removes the unix socket's lock file when the process it
// names is a zombie or no postgres at all (postgres would refuse to start).
func (i *Instance) clearSocketLock() error {
	path := filepath.Join(i.cfg.SocketDir, ".s.PGSQL."+strconv.Itoa(i.cfg.Port)+".lock")
	pid := readPidFile(path)
	if pid <= 0 || pid == os.Getpid() || pid == os.Getppid() {
		return nil
	}
	st, _, ok := procStat(pid)
	if !ok || (st != 'Z' && st != 'X' && isPostgres(pid) != ownerOther) {
		return nil
	}
	i.log.Warn("removing stale socket lock file", "path", path, "pid", pid)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket lock: %w", err)
	}
	return nil
}

func (i *Instance) stopStalePostmaster(ctx context.Context) error {
	pid := readPidFile(filepath.Join(i.cfg.DataDir, "postmaster.pid"))
	if pid <= 0 || pid == os.Getpid() || pid == os.Getppid() {
		return nil
	}
	if st, _, ok := procStat(pid); !ok {
		return nil // gone: postgres sees that itself
	} else if st == 'Z' || st == 'X' {
		return i.removePidFile(ctx, pid, "a zombie")
	}
	switch i.postmasterOwner(pid) {
	case ownerOther:
		return i.removePidFile(ctx, pid, "another process")
	case ownerUnknown:
		return nil
	}
	i.log.Warn("stopping a postgres left running on this data dir", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	if !waitGone(ctx, pid, 5*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		killChildren(pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if !waitGone(ctx, pid, 5*time.Second) {
			if ctx.Err() != nil {
				return fmt.Errorf("stop earlier postmaster (pid %d): %w", pid, ctx.Err())
			}
			return fmt.Errorf("earlier postmaster (pid %d) on %s does not exit", pid, i.cfg.DataDir)
		}
	}
	if readPidFile(filepath.Join(i.cfg.DataDir, "postmaster.pid")) == pid && alivePid(pid) {
		return i.removePidFile(ctx, pid, "a zombie") // killed and not reaped
	}
	return nil
}

func readPidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0
	}
	return pid
}

// alivePid: the pid exists, maybe as a zombie (what kill(pid, 0) sees).
func alivePid(pid int) bool {
	_, _, ok := procStat(pid)
	return ok
}

// removePidFile removes a postmaster.pid whose postmaster is gone. Its
// backends may outlive it for a moment; postgres's own check for them
// needs this file, so they are waited for (and killed after 5 s) first.
func (i *Instance) removePidFile(ctx context.Context, pid int, holder string) error {
	if left := processesInDir(i.cfg.DataDir); len(left) > 0 {
		i.log.Warn("waiting for processes of an earlier postgres to exit", "pids", left)
		if !waitNone(ctx, i.cfg.DataDir, 5*time.Second) {
			for _, p := range processesInDir(i.cfg.DataDir) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			if !waitNone(ctx, i.cfg.DataDir, 5*time.Second) {
				return fmt.Errorf("processes of an earlier postgres still run in %s: %v", i.cfg.DataDir, processesInDir(i.cfg.DataDir))
			}
		}
	}
	i.log.Warn("removing stale postmaster.pid", "pid", pid, "now", holder)
	if err := os.Remove(filepath.Join(i.cfg.DataDir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale postmaster.pid: %w", err)
	}
	return nil
}

// processesInDir lists live processes whose working directory is dir
// (every postgres process works in its data dir).
func processesInDir(dir string) []int {
	want := resolve(dir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == want && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func waitNone(ctx context.Context, dir string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(processesInDir(dir)) > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

type owner int

const (
	ownerUnknown owner = iota
	ownerUs            // a postgres whose data dir is ours
	ownerOther         // some other program, or a postgres elsewhere
)

// isPostgres: ownerOther when pid runs another program, else ownerUnknown.
func isPostgres(pid int) owner {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ownerUnknown
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		exe, _, _ = strings.Cut(string(cmdline), "\x00")
	}
	if base := filepath.Base(strings.TrimSuffix(exe, " (deleted)")); base != "postgres" && base != "postmaster" {
		return ownerOther
	}
	return ownerUnknown
}

// postmasterOwner tells whether pid is a postgres running on DataDir.
func (i *Instance) postmasterOwner(pid int) owner {
	if isPostgres(pid) == ownerOther {
		return ownerOther
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ownerUnknown
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	want := resolve(i.cfg.DataDir)
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil {
		if resolve(cwd) == want {
			return ownerUs
		}
		return ownerOther
	}
	for k := 0; k+1 < len(args); k++ {
		if args[k] == "-D" && resolve(args[k+1]) == want {
			return ownerUs
		}
	}
	if bytes.Contains(cmdline, []byte(i.cfg.DataDir)) {
		return ownerUs
	}
	return ownerUnknown
}

func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// waitGone polls until pid has exited (or is a zombie), d passes or ctx
// ends; true if it is gone.
func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for alive(pid) {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}
