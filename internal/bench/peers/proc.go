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

	"github.com/pgtui/pgtui/nodeimage/pg"
)

// proc is one process the bench started, in a process group of its own so
// that it and whatever it forks (but not postgres, which both peers start
// in a session of its own) can be signalled together.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// start runs argv with its output appended to logPath, as ru when not nil
// (postgres, pg_autoctl and Patroni refuse to run as root).
func start(name, logPath string, ru *pg.RunAs, env []string, argv ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if ru != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: ru.UID, Gid: ru.GID}
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

// run runs argv to completion (a setup command), its output in logPath.
func run(ctx context.Context, name, logPath string, ru *pg.RunAs, env []string, argv ...string) error {
	p, err := start(name, logPath, ru, env, argv...)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("%s: %w", name, ctx.Err())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("%s exited %d; log: %s\n%s", name, code, logPath, tail(logPath, 20))
	}
	return nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the whole process group.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.alive() {
		return fmt.Errorf("%s is not running", p.name)
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// kill SIGKILLs the group and waits for the leader.
func (p *proc) kill() {
	if p == nil || !p.alive() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop asks the group to stop (SIGTERM) and kills it after timeout.
func (p *proc) stop(timeout time.Duration) {
	if p == nil || !p.alive() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}

// postmasterPid reads the pid from a data directory's postmaster.pid.
func postmasterPid(pgdata string) (int, error) {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// killPostmaster SIGKILLs the postmaster of pgdata, if one runs; its
// backends exit on their own when they see it gone.
func killPostmaster(pgdata string) error {
	pid, err := postmasterPid(pgdata)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// waitPostmasterGone waits until no process of pgdata's old postmaster
// remains, so a restart does not meet "shared memory block still in use".
func waitPostmasterGone(ctx context.Context, pid int) error {
	for syscall.Kill(pid, 0) == nil {
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return fmt.Errorf("postmaster %d still alive: %w", pid, err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// until polls cond every 50 ms until it returns true or timeout passes.
func until(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if sleep(ctx, 50*time.Millisecond) != nil {
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// chownTree gives dir and everything below it to ru (nil: no change).
func chownTree(dir string, ru *pg.RunAs) error {
	if ru == nil {
		return nil
	}
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(ru.UID), int(ru.GID))
	})
}

// mkdirFor creates dir owned by ru.
func mkdirFor(dir string, ru *pg.RunAs) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return chownTree(dir, ru)
}

func tail(path string, lines int) string {
	data, _ := os.ReadFile(path)
	ls := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
