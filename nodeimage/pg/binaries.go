// Package pg is the keeper's only way to touch PostgreSQL: finding the
// server programs, initdb, configuration files, the postgres process,
// promotion, base backups, rewinds, roles, slots and status.
package pg

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Binaries locates the PostgreSQL server programs.
type Binaries struct{ Dir string }

// Path is the full path of one program.
func (b Binaries) Path(prog string) string { return filepath.Join(b.Dir, prog) }

// FindBinaries looks in $PGTUI_PG_BINDIR, beside initdb in PATH, in
// `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (Binaries, error) {
	var dirs []string
	if d := os.Getenv("PGTUI_PG_BINDIR"); d != "" {
		dirs = append(dirs, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(r))
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	dirs = append(dirs, matches...)
	for _, d := range dirs {
		if fi, err := os.Stat(filepath.Join(d, "initdb")); err == nil && !fi.IsDir() {
			if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
				return Binaries{Dir: d}, nil
			}
		}
	}
	return Binaries{}, errors.New("postgres server binaries not found (initdb): run `make deps` or apt-get install postgresql")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// RunAs is the OS user postgres runs as; nil means the current user.
type RunAs struct {
	Name     string
	UID, GID uint32
}

// SystemUser returns the postgres system user when running as root, since
// postgres refuses to run as root; otherwise nil.
func SystemUser() (*RunAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs the postgres system user: apt-get install postgresql")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &RunAs{Name: u.Username, UID: uint32(uid), GID: uint32(gid)}, nil
}

// CheckReachable verifies that ru can traverse every directory down to dir.
func CheckReachable(dir string, ru *RunAs) error {
	if ru == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cur := "/"
	for _, part := range strings.Split(strings.TrimPrefix(abs, "/"), "/") {
		if part == "" {
			continue
		}
		fi, err := os.Stat(cur)
		if err != nil {
			break
		}
		if !searchable(fi, ru) {
			return fmt.Errorf("data dir %s: %s is not reachable by user %s (mode %04o): choose a path under /var/lib/pgtui or /tmp", abs, cur, ru.Name, fi.Mode().Perm())
		}
		next := filepath.Join(cur, part)
		if _, err := os.Stat(next); err != nil {
			break // deeper directories will be created by us
		}
		cur = next
	}
	return nil
}

func searchable(fi os.FileInfo, ru *RunAs) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	m := fi.Mode().Perm()
	switch {
	case st.Uid == ru.UID:
		return m&0o100 != 0
	case st.Gid == ru.GID:
		return m&0o010 != 0
	default:
		return m&0o001 != 0
	}
}

// chown gives path to ru (no-op for the current user).
func chown(path string, ru *RunAs) error {
	if ru == nil {
		return nil
	}
	if err := os.Lchown(path, int(ru.UID), int(ru.GID)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// command builds a command that runs as ru.
func command(ru *RunAs, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if ru != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: ru.UID, Gid: ru.GID}
	}
	return cmd
}
