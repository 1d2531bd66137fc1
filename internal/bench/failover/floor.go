package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// floorPair is a primary and a fresh streaming replica of it, made with the
// same pg package the keeper uses, outside any HA logic.
type floorPair struct {
	dir     string
	primary *pg.Instance
	bin     pg.Binaries
	runAs   *pg.RunAs
}

// measure times pg_promote() on a streaming replica plus the first write
// on it. Each call builds a new replica by base backup.
func (p *floorPair) measure(ctx context.Context) (time.Duration, error) {
	replDir := filepath.Join(p.dir, fmt.Sprintf("replica-%d", time.Now().UnixNano()))
	r := pg.New(pg.Config{Bin: p.bin, DataDir: replDir, SocketDir: replDir + "-s", ListenHost: "127.0.0.1", Port: mustPort(), RunAs: p.runAs})
	src := pg.ConnInfo{Host: "127.0.0.1", Port: p.primary.Config().Port, User: "repluser", Password: "floor", AppName: "floor"}
	if err := r.BaseBackup(ctx, src); err != nil {
		return 0, err
	}
	if _, err := r.WriteConf(pg.Settings{ReplUser: "repluser", PrimaryConnInfo: src.String()}); err != nil {
		return 0, err
	}
	if err := r.Start(ctx); err != nil {
		return 0, err
	}
	defer func() {
		_ = r.Stop(context.Background(), pg.StopImmediate)
		_ = r.RemoveData()
	}()
	if err := waitStreaming(ctx, r); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := r.Promote(ctx); err != nil {
		return 0, err
	}
	url := fmt.Sprintf("postgres://postgres:floor@127.0.0.1:%d/postgres?sslmode=disable", r.Config().Port)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO acked (id) VALUES (1)`); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// newFloorPair starts the primary that every floor trial of a run uses.
func newFloorPair(ctx context.Context, base string) (*floorPair, error) {
	bin, err := pg.FindBinaries()
	if err != nil {
		return nil, err
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "floor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if runAs != nil {
		if err := os.Chown(dir, int(runAs.UID), int(runAs.GID)); err != nil {
			return nil, err
		}
	}
	p := pg.New(pg.Config{Bin: bin, DataDir: filepath.Join(dir, "primary"), SocketDir: filepath.Join(dir, "ps"), ListenHost: "127.0.0.1", Port: mustPort(), RunAs: runAs})
	if err := p.Initdb(ctx); err != nil {
		return nil, err
	}
	if _, err := p.WriteConf(pg.Settings{ReplUser: "repluser"}); err != nil {
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	fp := &floorPair{dir: dir, primary: p, bin: bin, runAs: runAs}
	if err := p.EnsureRoles(ctx, []pg.Role{{Name: "postgres", Password: "floor", Superuser: true}, {Name: "repluser", Password: "floor", Replication: true}}); err != nil {
		fp.close()
		return nil, err
	}
	conn, err := p.Connect(ctx)
	if err != nil {
		fp.close()
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE acked (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		fp.close()
		return nil, err
	}
	return fp, nil
}

func (f *floorPair) close() {
	if f != nil {
		_ = f.primary.Stop(context.Background(), pg.StopFast)
	}
}

func waitStreaming(ctx context.Context, r *pg.Instance) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := r.Status(ctx); err == nil && st.ReceiverStreaming {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("floor replica not streaming within 30s")
}

func mustPort() int {
	p, err := testcluster.FreePort("127.0.0.1")
	if err != nil {
		panic(err)
	}
	return p
}
