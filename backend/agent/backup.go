package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// Secrets of the backup repository in the cluster's secrets file.
const (
	secretCipher        = "PGTUI_BACKUP_CIPHER_PASS"
	secretS3Key         = "PGTUI_BACKUP_S3_KEY"
	secretS3Secret      = "PGTUI_BACKUP_S3_SECRET"
	secretRestoreCipher = "PGTUI_RESTORE_CIPHER_PASS"
	secretRestoreS3Key  = "PGTUI_RESTORE_S3_KEY"
	secretRestoreS3Sec  = "PGTUI_RESTORE_S3_SECRET"
)

// Backup is a cluster's backup settings (secrets live in secrets.env).
type Backup struct {
	FullEvery     time.Duration `json:"full_every"`
	DiffEvery     time.Duration `json:"diff_every"`
	RetentionFull int           `json:"retention_full"`
	S3            *S3Repo       `json:"s3,omitempty"`
	// RestoreFrom: the cluster bootstraps from this backup.
	RestoreFrom *RestoreFrom `json:"restore_from,omitempty"`
}

// S3Repo is where a repository in a bucket lives (no secrets).
type S3Repo struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	Region   string `json:"region,omitempty"`
	CAFile   string `json:"ca_file,omitempty"`
}

// RestoreFrom names the source of a restored cluster.
type RestoreFrom struct {
	Cluster string    `json:"cluster"`
	Repo    string    `json:"repo"`
	S3      *S3Repo   `json:"s3,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	Set     string    `json:"set,omitempty"`
	Latest  bool      `json:"latest,omitempty"`
}

func defaultBackup() *Backup {
	return &Backup{FullEvery: 7 * 24 * time.Hour, DiffEvery: 24 * time.Hour, RetentionFull: 2}
}

// backupsDir holds one repository directory per cluster; each node
// creates its cluster's 0700, owned by the postgres user.
func backupsDir(home string) string { return filepath.Join(home, "backups") }

// repoPath is the cluster's repository: a directory, or the path in the
// bucket.
func repoPath(home string, c *Cluster) string {
	if c.Backup != nil && c.Backup.S3 != nil {
		return "/" + c.Name
	}
	return filepath.Join(backupsDir(home), c.Name)
}

// backupArgs are the node flags for the cluster's backups.
func (a *Agent) backupArgs(c *Cluster) []string {
	b := c.Backup
	if b == nil {
		return nil
	}
	args := []string{"--backup-repo", repoPath(a.cfg.Home, c), "--backup-retention-full", strconv.Itoa(b.RetentionFull)}
	args = append(args, s3Args("backup", b.S3)...)
	if rf := b.RestoreFrom; rf != nil && !c.Deployed {
		args = append(args, "--restore-from", rf.Cluster, "--restore-repo", rf.Repo)
		args = append(args, s3Args("restore", rf.S3)...)
		switch {
		case !rf.Time.IsZero():
			args = append(args, "--restore-time", rf.Time.UTC().Format(time.RFC3339Nano))
		case rf.Set != "":
			args = append(args, "--restore-backup", rf.Set)
		default:
			args = append(args, "--restore-latest")
		}
	}
	return args
}

func s3Args(prefix string, s *S3Repo) []string {
	if s == nil {
		return nil
	}
	out := []string{"--" + prefix + "-s3-endpoint", s.Endpoint, "--" + prefix + "-s3-bucket", s.Bucket}
	if s.Region != "" {
		out = append(out, "--"+prefix+"-s3-region", s.Region)
	}
	if s.CAFile != "" {
		out = append(out, "--"+prefix+"-s3-ca-file", s.CAFile)
	}
	return out
}

func (a *Agent) backupRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/clusters/{name}/backups", func(r *http.Request) (any, error) { return a.listBackups(r.Context(), r.PathValue("name")) })
	h("GET /v1/clusters/{name}/backups/config", func(r *http.Request) (any, error) { return a.backupConfig(r.PathValue("name")) })
	h("PATCH /v1/clusters/{name}/backups/config", func(r *http.Request) (any, error) {
		var u backend.BackupConfigUpdate
		if err := decode(r, &u); err != nil {
			return nil, err
		}
		return a.updateBackupConfig(r.Context(), r.PathValue("name"), u)
	})
}

// leaderAddr is the health address of the machine that leads.
func (a *Agent) leaderAddr(ctx context.Context, name string) (string, error) {
	c, _, err := a.snapshot(name)
	if err != nil {
		return "", err
	}
	if c.Backup == nil {
		return "", fmt.Errorf("cluster %s has no backups configured", name)
	}
	id := a.leaderID(ctx, name)
	if m := c.machine(id); m != nil {
		return net.JoinHostPort(m.IP, strconv.Itoa(healthPort)), nil
	}
	return "", fmt.Errorf("cluster %s has no leader right now: retry once `pgtui status -a %s` shows one", name, name)
}

// nodeCall sends one request to the leader's node API.
func (a *Agent) nodeCall(ctx context.Context, name, method, path string) (*http.Response, error) {
	addr, err := a.leaderAddr(ctx, name)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	nodeapi.SetAuth(req, a.nodeToken(name))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("leader of %s: %w", name, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var eb struct{ Error string }
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
			return nil, errors.New(oneLine(eb.Error))
		}
		return nil, fmt.Errorf("leader of %s: %s %s: %s", name, method, path, resp.Status)
	}
	return resp, nil
}

// nodeCallReady is nodeCall that waits out a leader change: no leader
// yet, or a new leader still creating its stanza.
func (a *Agent) nodeCallReady(ctx context.Context, name, method, path string) (*http.Response, error) {
	for {
		resp, err := a.nodeCall(ctx, name, method, path)
		if err == nil || !(strings.Contains(err.Error(), "not ready") || strings.Contains(err.Error(), "no leader") ||
			strings.Contains(err.Error(), "not the leader")) {
			return resp, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nodeBackupInfo is the leader's GET /backup/info.
func (a *Agent) nodeBackupInfo(ctx context.Context, name string) (*nodeapi.BackupInfo, error) {
	resp, err := a.nodeCall(ctx, name, "GET", "/backup/info")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out nodeapi.BackupInfo
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("backup info of %s: %w", name, err)
	}
	if out.Info == nil {
		return nil, fmt.Errorf("backup info of %s: empty answer", name)
	}
	return &out, nil
}

func (a *Agent) listBackups(ctx context.Context, name string) (*backend.BackupList, error) {
	ni, err := a.nodeBackupInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	return backupList(name, ni, time.Now()), nil
}

// backupList maps the node's view to the API's. The restorable window
// ends at the last archived segment: while archiving works, every commit
// up to then can be recovered (the current segment once it is switched,
// which a restore forces).
func backupList(name string, ni *nodeapi.BackupInfo, now time.Time) *backend.BackupList {
	in := ni.Info
	out := &backend.BackupList{Cluster: name, Backups: []backend.BackupItem{}, WALMin: in.WALMin, WALMax: in.WALMax}
	for _, b := range in.Backups {
		out.Backups = append(out.Backups, backend.BackupItem{ID: b.Label, Type: b.Type, Start: b.Start, Stop: b.Stop,
			Size: b.Size, RepoSize: b.RepoSize, WALStart: b.WALStart, WALStop: b.WALStop})
	}
	if len(in.Backups) > 0 {
		out.Earliest = in.Earliest()
		out.Latest = in.Backups[len(in.Backups)-1].Stop
	}
	if ar := ni.Archiver; ar != nil {
		out.LastArchived = ar.LastArchived
		if ar.LastArchived.After(out.Latest) && len(in.Backups) > 0 {
			out.Latest = ar.LastArchived
		}
		if !ar.LastFailed.IsZero() && ar.LastFailed.After(ar.LastArchived) {
			out.ArchiveError = fmt.Sprintf("archiving %s failed at %s", ar.LastFailedWAL, ar.LastFailed.Format(time.RFC3339))
		}
	}
	return out
}

func (a *Agent) backupConfig(name string) (*backend.BackupSettings, error) {
	c, _, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	return a.settingsOf(&c)
}

func (a *Agent) settingsOf(c *Cluster) (*backend.BackupSettings, error) {
	b := c.Backup
	if b == nil {
		return nil, fmt.Errorf("cluster %s has no backups configured", c.Name)
	}
	s := &backend.BackupSettings{Repository: repoPath(a.cfg.Home, c), Encryption: "aes-256-cbc", FullEvery: b.FullEvery,
		DiffEvery: b.DiffEvery, RetentionFull: b.RetentionFull}
	if b.S3 != nil {
		s.S3Endpoint, s.S3Bucket, s.Repository = b.S3.Endpoint, b.S3.Bucket, "s3://"+b.S3.Bucket+"/"+c.Name
	}
	if b.RestoreFrom != nil {
		s.RestoredFrom = b.RestoreFrom.Cluster
	}
	return s, nil
}

// updateBackupConfig changes the schedule and retention; moving the
// repository to S3 stores the keys in the secrets file and restarts the
// machines one at a time with the new flags. The next scheduled run then
// takes a full backup there.
func (a *Agent) updateBackupConfig(ctx context.Context, name string, u backend.BackupConfigUpdate) (*backend.BackupSettings, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	c := a.state.Clusters[name]
	if c == nil {
		a.mu.Unlock()
		return nil, notFound("postgres cluster", name)
	}
	if c.Backup == nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("cluster %s has no backups configured", name)
	}
	nb := *c.Backup
	if u.FullEvery != nil {
		nb.FullEvery = *u.FullEvery
	}
	if u.DiffEvery != nil {
		nb.DiffEvery = *u.DiffEvery
	}
	retention := u.RetentionFull != nil && *u.RetentionFull != nb.RetentionFull
	if u.RetentionFull != nil {
		nb.RetentionFull = *u.RetentionFull
	}
	if s := u.S3; s != nil {
		if err := updateSecrets(a.cfg.Home, name, map[string]string{secretS3Key: s.Key, secretS3Secret: s.Secret}); err != nil {
			a.mu.Unlock()
			return nil, err
		}
		nb.S3 = &S3Repo{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region, CAFile: s.CAFile}
	}
	c.Backup = &nb
	if err := a.save(); err != nil {
		a.mu.Unlock()
		return nil, err
	}
	out, err := a.settingsOf(c)
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if u.S3 != nil || retention {
		// The nodes read the repository from their flags.
		if err := a.restart(ctx, name); err != nil {
			return out, fmt.Errorf("settings saved, but restarting the machines failed: %w", err)
		}
	}
	return out, nil
}

// handleCreateBackup streams a backup's progress from the leader.
func (a *Agent) handleCreateBackup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Type string `json:"type"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := decode(r, &req); err != nil {
		reply(w, nil, err)
		return
	}
	if req.Type == "" {
		req.Type = "full"
	}
	if req.Type != "full" && req.Type != "diff" && req.Type != "incr" {
		reply(w, nil, badRequest(fmt.Errorf("backup type %q: use full, diff or incr", req.Type)))
		return
	}
	name := r.PathValue("name")
	resp, err := a.nodeCall(r.Context(), name, "POST", "/backup?type="+req.Type)
	if err != nil {
		reply(w, nil, err)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	done := false
	for sc.Scan() {
		var ev nodeapi.BackupEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue
		}
		out := backend.BackupProgress{Percent: ev.Percent, Done: ev.Done, ID: ev.Label, Error: oneLine(ev.Error)}
		done = done || ev.Done
		if enc.Encode(out) != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	if !done {
		_ = enc.Encode(backend.BackupProgress{Done: true, Error: "the leader stopped answering during the backup"})
	}
}

// runBackup takes a backup through the leader and waits for its end.
func (a *Agent) runBackup(ctx context.Context, name, typ string) (string, error) {
	resp, err := a.nodeCall(ctx, name, "POST", "/backup?type="+typ)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev nodeapi.BackupEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Done {
			if ev.Error != "" {
				return "", errors.New(oneLine(ev.Error))
			}
			return ev.Label, nil
		}
	}
	return "", errors.New("the leader stopped answering during the backup")
}

// handleRestore checks the request against the source's repository (so a
// refused restore creates nothing), then deploys the new cluster like
// create, its first leader restoring from the source's repository.
func (a *Agent) handleRestore(w http.ResponseWriter, r *http.Request) {
	var req backend.RestoreRequest
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := decode(r, &req); err != nil {
		reply(w, nil, err)
		return
	}
	req.Source = r.PathValue("name")
	creq, rf, err := a.prepareRestore(r.Context(), req)
	if err != nil {
		reply(w, nil, err)
		return
	}
	events := make(chan backend.CreateEvent, 256)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.createWith(creq, rf, events) }()
	streamEvents(w, r, events)
}

func (a *Agent) prepareRestore(ctx context.Context, req backend.RestoreRequest) (backend.CreateRequest, *RestoreFrom, error) {
	if err := req.Validate(); err != nil {
		return backend.CreateRequest{}, nil, err
	}
	src, _, err := a.snapshot(req.Source)
	if err != nil {
		return backend.CreateRequest{}, nil, err
	}
	if src.Backup == nil {
		return backend.CreateRequest{}, nil, backend.InputError{Err: fmt.Errorf("cluster %s has no backups configured", req.Source)}
	}
	a.mu.Lock()
	taken := a.state.Clusters[req.Target] != nil || a.state.Apps[req.Target] != nil
	a.mu.Unlock()
	if taken {
		return backend.CreateRequest{}, nil, backend.InputError{Err: fmt.Errorf("name %q is already taken: restore into a new name", req.Target)}
	}
	if req.Latest || !req.Time.IsZero() {
		// Archive the current WAL segment: every commit up to now becomes
		// restorable.
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		resp, err := a.nodeCallReady(cctx, req.Source, "POST", "/backup/check")
		cancel()
		if err != nil {
			return backend.CreateRequest{}, nil, fmt.Errorf("archive the current WAL of %s: %w", req.Source, err)
		}
		resp.Body.Close()
		a.log.Info("restore: current WAL archived", "source", req.Source, "took", time.Since(start).Round(time.Millisecond))
	}
	ni, err := a.nodeBackupInfo(ctx, req.Source)
	if err != nil {
		return backend.CreateRequest{}, nil, err
	}
	list := backupList(req.Source, ni, time.Now())
	if err := backend.CheckRestoreTarget(req, list); err != nil {
		return backend.CreateRequest{}, nil, err
	}
	n := req.InitialClusterSize
	if n == 0 {
		n = len(src.Machines)
	}
	creq := backend.CreateRequest{Name: req.Target, Org: src.Org, Region: src.Region, VMSize: src.VMSize, VolumeGB: src.VolumeGB, InitialClusterSize: n}
	if err := creq.Validate(); err != nil {
		return backend.CreateRequest{}, nil, backend.InputError{Err: err}
	}
	rf := &RestoreFrom{Cluster: req.Source, Repo: repoPath(a.cfg.Home, &src), Time: req.Time, Set: req.BackupID, Latest: req.Latest}
	if src.Backup.S3 != nil {
		s3 := *src.Backup.S3
		rf.S3 = &s3
	}
	return creq, rf, nil
}

// restoreSecrets are the source's repository secrets a restoring node reads.
func restoreSecrets(home, source string) (map[string]string, error) {
	out := map[string]string{}
	for from, to := range map[string]string{secretCipher: secretRestoreCipher, secretS3Key: secretRestoreS3Key, secretS3Secret: secretRestoreS3Sec} {
		v, err := readSecret(home, source, from)
		if err != nil {
			if from == secretCipher {
				return nil, err
			}
			continue
		}
		out[to] = v
	}
	return out, nil
}

// updateSecrets sets keys in the cluster's secrets file (0600).
func updateSecrets(home, cluster string, set map[string]string) error {
	path := secretsPath(home, cluster)
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cluster %s secrets: %w", cluster, err)
	}
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		k, _, _ := bytes.Cut(sc.Bytes(), []byte("="))
		if _, replaced := set[string(k)]; replaced {
			continue
		}
		b.Write(sc.Bytes())
		b.WriteByte('\n')
	}
	for k, v := range set {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	return writeAtomic(path, b.Bytes(), 0o600, false)
}

// scheduleBackups runs in the agent's lifetime: every tick, each deployed
// cluster with backups gets a full backup when it has none or the newest
// full is older than FullEvery, else a differential one when the newest
// backup is older than DiffEvery.
func (a *Agent) scheduleBackups(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		var names []string
		for name, c := range a.state.Clusters {
			if c.Deployed && c.Backup != nil {
				names = append(names, name)
			}
		}
		a.mu.Unlock()
		for _, name := range names {
			a.scheduledBackup(ctx, name)
		}
	}
}

func (a *Agent) scheduledBackup(ctx context.Context, name string) {
	c, _, err := a.snapshot(name)
	if err != nil || c.Backup == nil {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ni, err := a.nodeBackupInfo(ictx, name)
	cancel()
	if err != nil {
		return // no leader or stanza yet: next tick
	}
	typ := dueBackup(c.Backup, ni, time.Now())
	if typ == "" {
		return
	}
	bctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	label, err := a.runBackup(bctx, name, typ)
	if err != nil {
		a.log.Warn("scheduled backup failed", "cluster", name, "type", typ, "err", err)
		return
	}
	a.log.Info("scheduled backup done", "cluster", name, "type", typ, "id", label)
}

// dueBackup is the type of backup the schedule wants now, or "".
func dueBackup(b *Backup, ni *nodeapi.BackupInfo, now time.Time) string {
	var lastFull, last time.Time
	for _, bk := range ni.Info.Backups {
		if bk.Type == "full" && bk.Stop.After(lastFull) {
			lastFull = bk.Stop
		}
		if bk.Stop.After(last) {
			last = bk.Stop
		}
	}
	switch {
	case lastFull.IsZero() || now.Sub(lastFull) >= b.FullEvery:
		return "full"
	case now.Sub(last) >= b.DiffEvery:
		return "diff"
	}
	return ""
}
