// Command backup measures pgBackRest beside its floors on the same data in
// the same run: a full backup's MB/s beside pg_basebackup's, a restore's
// time beside pg_basebackup's, and pgbench TPC-B TPS with WAL archiving
// through pgBackRest beside the same run without archiving. Run by `make
// bench` (BENCHES=backup); BACKUP_SCALE sets pgbench's scale (default 30,
// about 450 MB), BACKUP_TPCB_SECONDS each TPC-B run (default 20).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage/backrest"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench backup:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	scale, secs := envInt("BACKUP_SCALE", 30), envInt("BACKUP_TPCB_SECONDS", 20)
	bin, err := pg.FindBinaries()
	if err != nil {
		return err
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("/tmp", "pgtui-bench-backup")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	host := freeport.Loopback()
	ports, err := freeport.TCP(host, 1)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := os.Mkdir(filepath.Join(root, "src"), 0o755); err != nil {
		return err
	}
	inst := pg.New(pg.Config{Bin: bin, DataDir: filepath.Join(root, "src", "pgdata"), SocketDir: filepath.Join(root, "src", "run"),
		ListenHost: host, Port: ports[0], RunAs: runAs, Logger: log})
	defer inst.Stop(context.Background(), pg.StopImmediate)
	var ru *backrest.RunAs
	if runAs != nil {
		ru = &backrest.RunAs{UID: runAs.UID, GID: runAs.GID}
	}
	c := inst.Config()
	br, err := backrest.New(backrest.Config{Stanza: "bench", Repo: backrest.Repo{Path: filepath.Join(root, "repo"), CipherPass: "bench-cipher-pass"},
		Dir: filepath.Join(root, "src", "backrest"), PGPath: c.DataDir, PGPort: c.Port, PGSocket: c.SocketDir, RunAs: ru, Log: log})
	if err != nil {
		return err
	}
	archiving := map[string]string{"archive_mode": "on", "archive_command": br.ArchiveCommand(), "max_wal_size": "1GB"}
	noArchiving := map[string]string{"archive_mode": "off", "max_wal_size": "1GB"}
	if err := inst.Initdb(ctx); err != nil {
		return err
	}
	const replPass = "bench-repl-pass"
	if _, err := inst.WriteConf(pg.Settings{Params: archiving, ReplUser: "repluser"}); err != nil {
		return err
	}
	if err := inst.Start(ctx); err != nil {
		return err
	}
	if err := inst.EnsureRoles(ctx, []pg.Role{{Name: "repluser", Password: replPass, Replication: true}}); err != nil {
		return err
	}
	if err := br.StanzaCreate(ctx); err != nil {
		return err
	}
	pgbench := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, bin.Path("pgbench"), append([]string{"-h", c.SocketDir, "-p", strconv.Itoa(c.Port), "-U", "postgres"}, args...)...)
		return cmd.CombinedOutput()
	}
	if out, err := pgbench("-i", "-q", "-s", strconv.Itoa(scale), "postgres"); err != nil {
		return fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	var size int64
	conn, err := inst.Connect(ctx)
	if err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, "SELECT sum(pg_database_size(datname))::bigint FROM pg_database").Scan(&size); err != nil {
		return err
	}
	_ = conn.Close(ctx)
	mb := float64(size) / (1 << 20)
	if err := br.Check(ctx); err != nil {
		return err
	}

	// Full backups: pgBackRest (lz4, 2 processes, encrypted) and
	// pg_basebackup (plain copy, WAL streamed) of the same data.
	start := time.Now()
	label, err := br.Backup(ctx, backrest.Full, nil)
	if err != nil {
		return err
	}
	brTook := time.Since(start)
	bbDir := filepath.Join(root, "basebackup")
	start = time.Now()
	cmd := exec.CommandContext(ctx, bin.Path("pg_basebackup"), "-h", host, "-p", strconv.Itoa(c.Port), "-U", "repluser",
		"-D", bbDir, "-X", "stream", "-c", "fast", "--no-password")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+replPass)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	bbTook := time.Since(start)

	// Restore of that backup beside pg_basebackup's time (the floor of
	// copying the same data out of a running server).
	if err := os.Mkdir(filepath.Join(root, "dst"), 0o755); err != nil {
		return err
	}
	dst, err := backrest.New(backrest.Config{Stanza: "bench", Repo: backrest.Repo{Path: filepath.Join(root, "repo"), CipherPass: "bench-cipher-pass"},
		Dir: filepath.Join(root, "dst", "backrest"), PGPath: filepath.Join(root, "dst", "pgdata"), RunAs: ru, Log: log})
	if err != nil {
		return err
	}
	start = time.Now()
	if err := dst.Restore(ctx, backrest.Target{Set: label}); err != nil {
		return err
	}
	restoreTook := time.Since(start)

	// TPC-B with and without archiving, same data, same length.
	tps := func() (float64, error) {
		if _, err := pgbench("-c", "4", "-j", "2", "-T", strconv.Itoa(secs), "postgres"); err != nil {
			return 0, err
		}
		out, err := pgbench("-c", "4", "-j", "2", "-T", strconv.Itoa(secs), "postgres")
		if err != nil {
			return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
		}
		m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("pgbench: no tps in\n%s", out)
		}
		return strconv.ParseFloat(string(m[1]), 64)
	}
	// Alternate the two settings twice and keep each one's best run, so
	// neither profits from running second (a warm cache, a quieter host).
	var withArch, without float64
	for round := 0; round < 2; round++ {
		for _, arch := range []bool{true, false} {
			params := noArchiving
			if arch {
				params = archiving
			}
			if _, err := inst.WriteConf(pg.Settings{Params: params, ReplUser: "repluser"}); err != nil {
				return err
			}
			if err := inst.Stop(ctx, pg.StopFast); err != nil {
				return err
			}
			if err := inst.Start(ctx); err != nil {
				return err
			}
			v, err := tps()
			if err != nil {
				return err
			}
			if arch {
				withArch = max(withArch, v)
			} else {
				without = max(without, v)
			}
		}
	}

	fmt.Printf("Backups (pgBackRest %s) on pgbench scale %d, %.0f MB, same data and run:\n\n", "2.45", scale, mb)
	fmt.Printf("| measure | pgBackRest | floor | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| full backup MB/s (floor: pg_basebackup) | %.1f (%.2fs) | %.1f (%.2fs) | %.2fx |\n",
		mb/brTook.Seconds(), brTook.Seconds(), mb/bbTook.Seconds(), bbTook.Seconds(), bbTook.Seconds()/brTook.Seconds())
	fmt.Printf("| restore time (floor: pg_basebackup) | %.2fs | %.2fs | %.2fx |\n", restoreTook.Seconds(), bbTook.Seconds(), restoreTook.Seconds()/bbTook.Seconds())
	fmt.Printf("| TPC-B TPS, 4 clients %ds, best of 2 alternating (floor: no archiving) | %.0f | %.0f | archiving costs %.1f%% |\n",
		secs, withArch, without, 100*(without-withArch)/without)
	return nil
}
