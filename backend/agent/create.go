package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage/keeper"
)

// deployTimeout bounds a deployment; a cluster not healthy by then is
// removed again, so nothing half-created stays behind.
const deployTimeout = 5 * time.Minute

// create places a cluster and streams its deployment. It runs in the
// agent's lifetime, not the request's: a client may detach.
func (a *Agent) create(req backend.CreateRequest, events chan<- backend.CreateEvent) {
	a.createWith(req, nil, events)
}

// createWith deploys a cluster; with rf its first leader restores from
// another cluster's backup instead of running initdb.
func (a *Agent) createWith(req backend.CreateRequest, rf *RestoreFrom, events chan<- backend.CreateEvent) {
	defer close(events)
	emit := func(ev backend.CreateEvent) {
		ev.Time = time.Now().UTC()
		select {
		case events <- ev:
		default: // nobody is listening (detached): keep deploying
		}
	}
	creds, err := a.place(req, rf)
	if err != nil {
		emit(backend.CreateEvent{Step: "failed", Error: err.Error(), Done: true})
		return
	}
	emit(backend.CreateEvent{Step: "placed", Message: fmt.Sprintf("%d machines placed with volumes", req.InitialClusterSize),
		Desired: req.InitialClusterSize, Placed: req.InitialClusterSize, Unhealthy: req.InitialClusterSize, Credentials: creds})
	if err := a.monitor(req.Name, emit); err != nil {
		a.log.Warn("deployment failed; removing the cluster", "cluster", req.Name, "err", err)
		_ = a.destroy(context.Background(), req.Name)
		emit(backend.CreateEvent{Step: "failed", Error: err.Error(), Done: true})
		return
	}
	a.mu.Lock()
	if c := a.state.Clusters[req.Name]; c != nil {
		c.Deployed = true
		_ = a.save()
	}
	a.mu.Unlock()
}

// place validates, records the cluster with its machines, volumes and
// secrets, and starts the machines.
func (a *Agent) place(req backend.CreateRequest, rf *RestoreFrom) (*backend.Credentials, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state.Clusters[req.Name] != nil || a.state.Apps[req.Name] != nil {
		return nil, fmt.Errorf("name %q is already taken: choose another name", req.Name)
	}
	subnet, err := a.freeSubnet()
	if err != nil {
		return nil, err
	}
	sec := keeper.Secrets{SuperuserPassword: randomHex(24), AdminPassword: randomHex(24), ReplPassword: randomHex(24)}
	// The repository's cipher key is made with the cluster and kept with
	// its secrets; a restored cluster also gets its source's, to read it.
	extra := map[string]string{secretCipher: randomHex(32)}
	if rf != nil {
		rs, err := restoreSecrets(a.cfg.Home, rf.Cluster)
		if err != nil {
			return nil, err
		}
		for k, v := range rs {
			extra[k] = v
		}
	}
	if err := os.MkdirAll(backupsDir(a.cfg.Home), 0o711); err != nil {
		return nil, fmt.Errorf("create %s: %w", backupsDir(a.cfg.Home), err)
	}
	if err := writeSecrets(a.cfg.Home, req.Name, sec, extra); err != nil {
		return nil, err
	}
	if err := ensureCA(a.cfg.Home, req.Name); err != nil {
		_ = os.RemoveAll(filepath.Dir(secretsPath(a.cfg.Home, req.Name)))
		return nil, err
	}
	bk := defaultBackup()
	bk.RestoreFrom = rf
	c := &Cluster{Name: req.Name, Org: orDefault(req.Org, "personal"), Region: req.Region, VMSize: req.VMSize,
		VolumeGB: req.VolumeGB, Subnet: subnet, Created: time.Now().UTC(), Backup: bk}
	for i := 0; i < req.InitialClusterSize; i++ {
		if err := a.addMachine(c, req.Region); err != nil {
			_ = os.RemoveAll(filepath.Dir(secretsPath(a.cfg.Home, req.Name)))
			return nil, err
		}
	}
	a.state.Clusters[c.Name] = c
	if err := a.save(); err != nil {
		delete(a.state.Clusters, c.Name)
		return nil, err
	}
	for _, m := range c.Machines {
		a.startMachineLocked(c, m)
	}
	return &backend.Credentials{Username: "postgres", Password: sec.SuperuserPassword, Hostname: c.Name + ".internal",
		ProxyPort: 5432, PGPort: 5433,
		LocalURL: (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", sec.SuperuserPassword),
			Host: net.JoinHostPort(c.Machines[0].IP, "5432"), Path: "/postgres", RawQuery: tlsQuery(a.cfg.Home, c.Name).Encode()}).String(),
		CAFile: caPath(a.cfg.Home, c.Name)}, nil
}

// addMachine allocates a machine with a new volume; a.mu is held.
func (a *Agent) addMachine(c *Cluster, region string) error {
	used := map[string]bool{}
	for _, m := range c.Machines {
		used[m.IP] = true
	}
	ip := ""
	for n := 2; n < 255 && ip == ""; n++ {
		cand := fmt.Sprintf("127.%d.%d.%d", a.cfg.IPBase, c.Subnet, n)
		if !used[cand] && portFree(cand) {
			ip = cand
		}
	}
	if ip == "" {
		return fmt.Errorf("no free address left in 127.%d.%d.0/24", a.cfg.IPBase, c.Subnet)
	}
	id := randomHex(4)
	vol := filepath.Join(a.cfg.Home, "volumes", id)
	if err := makeVolume(vol); err != nil {
		return err
	}
	m := &Machine{ID: id, Region: region, VMSize: c.VMSize, IP: ip, Volume: vol, Desired: "run", Created: time.Now().UTC()}
	m.event("created", fmt.Sprintf("machine created in %s with a %d GB volume", region, c.VolumeGB))
	c.Machines = append(c.Machines, m)
	return nil
}

// freeSubnet picks a /24 no cluster uses and whose first address is free.
func (a *Agent) freeSubnet() (int, error) {
	used := map[int]bool{}
	for _, c := range a.state.Clusters {
		used[c.Subnet] = true
	}
	for n := 1; n < 255; n++ {
		if !used[n] && portFree(fmt.Sprintf("127.%d.%d.2", a.cfg.IPBase, n)) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("no free subnet left in 127.%d.0.0/16", a.cfg.IPBase)
}

func portFree(ip string) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "5432"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// monitor emits deployment progress until every machine passes its checks.
func (a *Agent) monitor(name string, emit func(backend.CreateEvent)) error {
	ctx, cancel := context.WithTimeout(a.ctx, deployTimeout)
	defer cancel()
	seen := map[string]string{}
	last := ""
	for {
		st, serving, err := a.inspect(ctx, name)
		if err == nil {
			ev := backend.CreateEvent{Step: "progress", Desired: st.Deployment.Desired, Placed: st.Deployment.Placed,
				Healthy: st.Deployment.Healthy, Unhealthy: st.Deployment.Unhealthy}
			for _, m := range st.Machines {
				ev.ChecksTotal += m.Checks.Total
				ev.ChecksPassing += m.Checks.Passing
				for _, step := range newSteps(seen[m.ID], machineStep(m, serving[m.ID]), m.Role) {
					seen[m.ID] = step
					emit(backend.CreateEvent{Step: step, Machine: m.ID, Message: stepMessage(m, step)})
				}
			}
			key := fmt.Sprint(ev.Placed, ev.Healthy, ev.ChecksPassing)
			if key != last {
				last = key
				emit(ev)
			}
			// Deployed once healthy and, with replicas, committing
			// synchronously: only then can a failover lose nothing.
			if ev.Healthy == ev.Desired && ev.Desired > 0 && (ev.Desired == 1 || st.SyncStandby != "") {
				ev.Step, ev.Done, ev.Message = "deployed", true, "v0 deployed successfully"
				emit(ev)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster %s not healthy within %s", name, deployTimeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stepOrder is a machine's way to healthy; the data step is initdb for the
// first leader and basebackup for a replica.
var stepOrder = []string{"volume", "started", "data", "healthy"}

// newSteps lists the steps from after prev up to cur, so a machine that
// got through several between two polls still reports each one.
func newSteps(prev, cur, role string) []string {
	idx := func(s string) int {
		if s == "initdb" || s == "basebackup" {
			s = "data"
		}
		for i, o := range stepOrder {
			if o == s {
				return i
			}
		}
		return -1
	}
	var out []string
	for i := idx(prev) + 1; i <= idx(cur); i++ {
		step := stepOrder[i]
		if step == "data" {
			step = "basebackup"
			if role == "leader" {
				step = "initdb"
			}
		}
		out = append(out, step)
	}
	return out
}

// machineStep: healthy once the machine serves (pg and role checks pass)
// and the store says which role it has: the node's checks can pass a poll
// before its member record is read, and the role names the data step
// (initdb or basebackup) that newSteps reports on the way to healthy.
func machineStep(m backend.MachineStatus, serving bool) string {
	switch {
	case serving && m.Role != "":
		return "healthy"
	case m.Role == "leader":
		return "initdb"
	case m.Role == "replica":
		return "basebackup"
	case m.State == "running":
		return "started"
	}
	return "volume"
}

func stepMessage(m backend.MachineStatus, step string) string {
	switch step {
	case "healthy":
		return fmt.Sprintf("machine %s healthy: checks passing (%s)", m.ID, m.Role)
	case "initdb":
		return fmt.Sprintf("machine %s initialized the database and leads", m.ID)
	case "basebackup":
		return fmt.Sprintf("machine %s copied the leader (pg_basebackup) and replicates", m.ID)
	case "started":
		return fmt.Sprintf("machine %s started on %s", m.ID, m.PrivateIP)
	}
	return fmt.Sprintf("volume %s created", m.Volume)
}

func writeSecrets(home, cluster string, s keeper.Secrets, extra map[string]string) error {
	dir := filepath.Dir(secretsPath(home, cluster))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	body := "PGTUI_SUPERUSER_PASSWORD=" + s.SuperuserPassword + "\nPGTUI_ADMIN_PASSWORD=" + s.AdminPassword +
		"\nPGTUI_REPL_PASSWORD=" + s.ReplPassword + "\n"
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		body += k + "=" + extra[k] + "\n"
	}
	return writeAtomic(secretsPath(home, cluster), []byte(body), 0o600, false)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // cannot happen on Linux
	}
	return hex.EncodeToString(b)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
