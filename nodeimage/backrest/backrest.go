// Package backrest drives pgBackRest for one node: it writes the node's
// pgBackRest configuration (one stanza per cluster, an encrypted
// repository on a directory or an S3-compatible bucket) and runs
// stanza-create, backup, info, check, expire and restore. Postgres archives
// WAL through ArchiveCommand and reads it back through RestoreCommand.
package backrest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Binary is the pgBackRest executable looked up on PATH.
const Binary = "pgbackrest"

// Repo is where backups and archived WAL live.
type Repo struct {
	// Path: the repository directory (local), or the path inside the
	// bucket (S3). Required.
	Path string
	// CipherPass encrypts the repository (aes-256-cbc). Required: it is
	// written only into the 0600 configuration file, never on a command
	// line or in a log.
	CipherPass string
	S3         *S3 // nil: a local directory
	// RetentionFull: full backups kept (with the WAL they need); 0 = 2.
	RetentionFull int
}

// S3 is an S3-compatible bucket. pgBackRest talks to it over TLS only.
type S3 struct {
	Endpoint string // host, or host:port
	Bucket   string
	Region   string // default us-east-1
	Key      string
	Secret   string
	CAFile   string // trust this CA (a self-signed test server)
	// PathStyle addresses the bucket as endpoint/bucket rather than
	// bucket.endpoint (what local S3 servers want).
	PathStyle bool
}

// Config is one node's pgBackRest setup.
type Config struct {
	Stanza string // the cluster's name
	Repo   Repo
	// Dir is the node's own pgBackRest directory (outside pgdata): the
	// configuration file, spool, lock and log directories.
	Dir      string
	PGPath   string // the data directory
	PGPort   int
	PGSocket string // postgres's unix socket directory
	RunAs    *RunAs // nil: the current user
	Log      *slog.Logger
}

// RunAs is the OS user pgBackRest runs as: the one postgres runs as, so
// the files it restores and the WAL it reads are reachable.
type RunAs struct{ UID, GID uint32 }

var stanzaRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (c *Config) validate() error {
	switch {
	case !stanzaRe.MatchString(c.Stanza):
		return fmt.Errorf("backup stanza %q is not a DNS label: use a-z, 0-9 and -", c.Stanza)
	case c.Repo.Path == "":
		return errors.New("backup repository path is empty: pass --backup-repo")
	case c.Repo.CipherPass == "":
		return errors.New("backup cipher passphrase is empty: set PGTUI_BACKUP_CIPHER_PASS")
	case c.Dir == "" || !filepath.IsAbs(c.Dir):
		return fmt.Errorf("pgBackRest directory %q must be an absolute path", c.Dir)
	case c.PGPath == "" || !filepath.IsAbs(c.PGPath):
		return fmt.Errorf("data directory %q must be an absolute path", c.PGPath)
	}
	// The paths go unquoted into archive_command and restore_command.
	for _, v := range []string{c.Repo.Path, c.Dir, c.PGPath, c.PGSocket} {
		if strings.ContainsAny(v, "\x00\r\n'\" \t\\%") {
			return fmt.Errorf("path %q holds a space, quote, %% or line break: choose another", v)
		}
	}
	if strings.ContainsAny(c.Repo.CipherPass, "\x00\r\n") {
		return errors.New("backup cipher passphrase holds a line break or NUL")
	}
	if s := c.Repo.S3; s != nil {
		for _, v := range []string{s.Endpoint, s.Bucket, s.Region, s.Key, s.Secret, s.CAFile} {
			if strings.ContainsAny(v, "\x00\r\n") {
				return errors.New("S3 settings hold a line break or NUL")
			}
		}
		if s.Endpoint == "" || s.Bucket == "" || s.Key == "" || s.Secret == "" {
			return errors.New("S3 repository needs --s3-endpoint, --s3-bucket, --s3-key and --s3-secret")
		}
	}
	return nil
}

// Backrest runs pgBackRest commands for one node.
type Backrest struct {
	cfg Config
	log *slog.Logger
	mu  sync.Mutex // one backup or restore at a time from this node
}

// New validates cfg and writes the configuration file; nothing runs yet.
func New(cfg Config) (*Backrest, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	b := &Backrest{cfg: cfg, log: cfg.Log.With("proc", "backrest")}
	if err := b.writeConfig(); err != nil {
		return nil, err
	}
	return b, nil
}

// ConfigFile is the path of the node's pgBackRest configuration.
func (b *Backrest) ConfigFile() string { return filepath.Join(b.cfg.Dir, "pgbackrest.conf") }

// Stanza is the stanza's name.
func (b *Backrest) Stanza() string { return b.cfg.Stanza }

// ArchiveCommand is postgres's archive_command: asynchronous archive-push.
func (b *Backrest) ArchiveCommand() string {
	return fmt.Sprintf("%s --config=%s --stanza=%s archive-push %%p", Binary, b.ConfigFile(), b.cfg.Stanza)
}

// RestoreCommand is postgres's restore_command.
func (b *Backrest) RestoreCommand() string {
	return fmt.Sprintf("%s --config=%s --stanza=%s archive-get %%f %%p", Binary, b.ConfigFile(), b.cfg.Stanza)
}

// renderConfig is the configuration file's text (it holds secrets).
func (b *Backrest) renderConfig() []byte {
	c := b.cfg
	var w bytes.Buffer
	kv := func(k, v string) { fmt.Fprintf(&w, "%s=%s\n", k, v) }
	w.WriteString("# Written by pgtui's node. Holds the repository's secrets: keep 0600.\n[global]\n")
	retention := c.Repo.RetentionFull
	if retention <= 0 {
		retention = 2
	}
	kv("repo1-path", c.Repo.Path)
	kv("repo1-cipher-type", "aes-256-cbc")
	kv("repo1-cipher-pass", c.Repo.CipherPass)
	kv("repo1-retention-full", strconv.Itoa(retention))
	if s := c.Repo.S3; s != nil {
		host, port := s.Endpoint, ""
		if h, p, ok := strings.Cut(s.Endpoint, ":"); ok {
			host, port = h, p
		}
		region := s.Region
		if region == "" {
			region = "us-east-1"
		}
		kv("repo1-type", "s3")
		kv("repo1-s3-endpoint", host)
		if port != "" {
			kv("repo1-storage-port", port)
		}
		kv("repo1-s3-bucket", s.Bucket)
		kv("repo1-s3-region", region)
		kv("repo1-s3-key", s.Key)
		kv("repo1-s3-key-secret", s.Secret)
		if s.PathStyle {
			kv("repo1-s3-uri-style", "path")
		}
		if s.CAFile != "" {
			kv("repo1-storage-ca-file", s.CAFile)
		}
	}
	kv("spool-path", filepath.Join(c.Dir, "spool"))
	kv("lock-path", filepath.Join(c.Dir, "lock"))
	kv("log-path", filepath.Join(c.Dir, "log"))
	kv("log-level-file", "off")
	kv("log-level-console", "warn")
	kv("log-level-stderr", "off")
	kv("archive-async", "y")
	// A repository that stays unreachable must not fill the volume with
	// WAL: past this much queued WAL the push is dropped (the check turns
	// critical, the cluster keeps serving writes).
	kv("archive-push-queue-max", "1GiB")
	kv("archive-timeout", "60")
	kv("start-fast", "y")
	kv("compress-type", "lz4")
	kv("process-max", "2")
	fmt.Fprintf(&w, "\n[%s]\n", c.Stanza)
	kv("pg1-path", c.PGPath)
	if c.PGPort != 0 {
		kv("pg1-port", strconv.Itoa(c.PGPort))
	}
	if c.PGSocket != "" {
		kv("pg1-socket-path", c.PGSocket)
	}
	kv("pg1-user", "postgres")
	return w.Bytes()
}

// writeConfig writes the configuration (0600, owned by RunAs) and makes
// the spool, lock and log directories; a local repository's directory is
// created 0700.
func (b *Backrest) writeConfig() error {
	c := b.cfg
	dirs := []string{c.Dir, filepath.Join(c.Dir, "spool"), filepath.Join(c.Dir, "lock"), filepath.Join(c.Dir, "log")}
	if c.Repo.S3 == nil {
		dirs = append(dirs, c.Repo.Path)
	}
	for _, d := range dirs {
		if err := b.mkdirOwned(d); err != nil {
			return err
		}
	}
	return writeFileOwned(b.ConfigFile(), b.renderConfig(), c.RunAs)
}

func (b *Backrest) mkdirOwned(d string) error {
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("pgBackRest directory %s: %w", d, err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return fmt.Errorf("pgBackRest directory %s: %w", d, err)
	}
	if ru := b.cfg.RunAs; ru != nil {
		if err := os.Chown(d, int(ru.UID), int(ru.GID)); err != nil {
			return fmt.Errorf("pgBackRest directory %s: %w", d, err)
		}
	}
	return nil
}

// writeFileOwned writes path atomically, 0600, owned by ru.
func writeFileOwned(path string, data []byte, ru *RunAs) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err := os.Chmod(tmp, 0o600)
	if err == nil && ru != nil {
		err = os.Chown(tmp, int(ru.UID), int(ru.GID))
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// run runs one pgBackRest command as RunAs; each output line goes to
// line (when set) as it comes. The error carries the last lines.
func (b *Backrest) run(ctx context.Context, line func(string), args ...string) ([]byte, error) {
	full := append([]string{"--config=" + b.ConfigFile(), "--stanza=" + b.cfg.Stanza}, args...)
	cmd := exec.CommandContext(ctx, Binary, full...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if ru := b.cfg.RunAs; ru != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: ru.UID, Gid: ru.GID}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// pgBackRest reads PGBACKREST_* variables as options: keep ours out.
	env := []string{"HOME=" + b.cfg.Dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Dir = b.cfg.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgbackrest %s: %w (install it: apt-get install pgbackrest)", args[len(args)-1], err)
	}
	var all bytes.Buffer
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		all.Write(sc.Bytes())
		all.WriteByte('\n')
		if line != nil {
			line(sc.Text())
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(lastLines(append(all.Bytes(), stderr.Bytes()...), 6))
		return all.Bytes(), fmt.Errorf("pgbackrest %s: %w: %s", commandName(args), err, msg)
	}
	return all.Bytes(), nil
}

func commandName(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return strings.Join(args, " ")
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StanzaCreate creates the stanza in the repository (postgres must run
// as a primary); creating one that exists for this database is a no-op.
func (b *Backrest) StanzaCreate(ctx context.Context) error {
	_, err := b.run(ctx, nil, "stanza-create")
	return err
}

// Check forces a WAL switch on the primary and waits until that segment
// is archived: after it, every commit before the call is restorable.
func (b *Backrest) Check(ctx context.Context) error {
	_, err := b.run(ctx, nil, "check")
	return err
}

// Backup types.
const (
	Full = "full"
	Diff = "diff"
	Incr = "incr"
)

// ValidType reports whether t is a backup type pgBackRest knows.
func ValidType(t string) bool { return t == Full || t == Diff || t == Incr }

var progressRe = regexp.MustCompile(`(\d+(?:\.\d+)?)%\)`)

// Backup takes a backup of the local postgres (a primary). progress gets
// the percentage done as files are copied. The label of the new backup is
// returned.
func (b *Backrest) Backup(ctx context.Context, typ string, progress func(pct float64)) (string, error) {
	if !ValidType(typ) {
		return "", fmt.Errorf("backup type %q: use full, diff or incr", typ)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	before, _ := b.Info(ctx)
	line := func(s string) {
		if m := progressRe.FindStringSubmatch(s); m != nil && progress != nil {
			if p, err := strconv.ParseFloat(m[1], 64); err == nil {
				progress(p)
			}
		}
	}
	if _, err := b.run(ctx, line, "--type="+typ, "--log-level-console=detail", "backup"); err != nil {
		return "", err
	}
	info, err := b.Info(ctx)
	if err != nil {
		return "", err
	}
	if n := len(info.Backups); n > 0 && (before == nil || len(before.Backups) == 0 || before.Backups[len(before.Backups)-1].Label != info.Backups[n-1].Label) {
		return info.Backups[n-1].Label, nil
	}
	return "", errors.New("pgbackrest backup: finished but no new backup is listed")
}

// Expire removes backups (and their WAL) beyond the retention.
func (b *Backrest) Expire(ctx context.Context) error {
	_, err := b.run(ctx, nil, "expire")
	return err
}
