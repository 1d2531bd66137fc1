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
	sort.SliceStable(matches, func(i, j int) bool { return majorOf(matches[i]) > majorOf(matches[j]) })
	dirs = append(dirs, matches...)
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			abs, err := filepath.Abs(d)
			if err != nil {
				abs = d
			}
			return Binaries{Dir: abs}, nil
		}
	}
	return Binaries{}, errors.New("postgres server binaries not found (initdb): run `make deps` or apt-get install postgresql")
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// majorOf reads the version from /usr/lib/postgresql/<major>/bin.
func majorOf(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
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
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres system user: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres system user: gid %q: %w", u.Gid, err)
	}
	return &RunAs{Name: u.Username, UID: uint32(uid), GID: uint32(gid)}, nil
}

// CheckReachable verifies that ru can traverse every existing directory
// on the way to dir (/, then each existing ancestor). Directories that do
// not exist yet are ours to create; dir itself is chowned by its creator.
func CheckReachable(dir string, ru *RunAs) error {
	if ru == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
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
			return fmt.Errorf("data dir %s: %s is not reachable by user %s (mode %04o): choose a path under /var/lib/pgtui or /tmp",
				abs, cur, ru.Name, fi.Mode().Perm())
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
	case ru.UID == 0:
		return true
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

// mkdirOwned creates dir with mode, owned by ru. Missing parents are made
// 0755 and, when ru is set, given to ru so that it can write beside dir.
func mkdirOwned(dir string, mode os.FileMode, ru *RunAs) error {
	var created []string
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
	}
	for k := len(created) - 1; k >= 0; k-- {
		d := created[k]
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if err := chown(d, ru); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return chown(dir, ru)
}

// command builds a command that runs as ru in its own process group, with
// an environment free of the caller's libpq (PG*) variables.
func command(ru *RunAs, home, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if ru != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: ru.UID, Gid: ru.GID}
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+home)
	return cmd
}
