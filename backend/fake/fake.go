// Package fake is an in-memory backend.Backend for tests of the CLI and
// the cockpit. Everything it makes up is deterministic (machine ids from a
// fixed list, times from a fixed clock, fixed passwords), so outputs can
// be pinned byte for byte in golden files.
package fake

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgtui/pgtui/backend"
)

var _ backend.Backend = (*Backend)(nil)

// Epoch is the fake clock's first reading: the seed's first machine.
func Epoch() time.Time { return time.Date(2021, 2, 10, 23, 21, 21, 0, time.UTC) }

// SeedPassword is the superuser password of every fake cluster, the one
// the seed's credentials block shows.
const SeedPassword = "5f2496c9161f9aa9d59bc771edab4d1f66ff97fa5236587e"

// machineIDs are handed out in order; the first two are the seed's.
var machineIDs = []string{"6b97fa06", "da8141e7", "0e286f3c", "148ed193", "5683d9e1", "9185e3ef", "e2865c1a", "3d8dd2e7", "17811e4b"}

// Backend is the in-memory platform. The zero value is not usable: call New.
type Backend struct {
	// CreateError, when set, makes each deployment fail with this message
	// after its machines were placed (and the cluster is removed again).
	CreateError string
	// LogBurst and LogRate make a followed log stream go on after its
	// fixed lines, for benchmarks of the logs pane: LogBurst lines as fast
	// as the reader takes them, then LogRate lines a second, until ctx
	// ends (see Logs). Set them before the stream is opened.
	LogBurst, LogRate int

	generated atomic.Int64 // log lines generated, see GeneratedLogLines

	mu       sync.Mutex
	tick     int
	nextID   int
	subnets  int
	clusters map[string]*cluster
	apps     map[string]*app
	calls    []string
	backups  map[string]*fakeBackups // by cluster, see backup.go
}

type cluster struct {
	name, org, region, vmSize string
	platform                  string // "" local, "hosts" external (SetPlatform)
	volumeGB, version         int
	generation                int64
	leader                    string
	subnet                    int
	created                   time.Time
	machines                  []*machine
	users                     map[string]bool // name -> superuser
	dbs                       map[string]bool
	log                       []backend.LogLine  // what the nodes logged beyond the fixed lines, see nodeLog
	followers                 map[*follower]bool // open followed log streams
}

type machine struct {
	status backend.MachineStatus
	events []backend.Event
}

// New returns an empty fake platform.
func New() *Backend {
	return &Backend{clusters: map[string]*cluster{}, apps: map[string]*app{}}
}

// Calls lists the Backend methods called so far, in order, so tests can
// assert that invalid input never reached the backend.
func (b *Backend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

// Called counts the calls of one method.
func (b *Backend) Called(method string) int {
	n := 0
	for _, c := range b.Calls() {
		if c == method {
			n++
		}
	}
	return n
}

// record notes a call and takes the lock; callers defer the unlock.
func (b *Backend) record(method string) {
	b.mu.Lock()
	b.calls = append(b.calls, method)
}

// now advances the fake clock by a second per reading; b.mu is held.
func (b *Backend) now() time.Time {
	t := Epoch().Add(time.Duration(b.tick) * time.Second)
	b.tick++
	return t
}

func (b *Backend) newMachineID() string {
	n := b.nextID
	b.nextID++
	if n < len(machineIDs) {
		return machineIDs[n]
	}
	return fmt.Sprintf("%08x", uint32(n)*2654435761)
}

func notFound(kind, name string) error {
	return fmt.Errorf("%s %q not found: see `pgtui postgres list` / `pgtui apps list`", kind, name)
}

// cluster looks a cluster up; b.mu is held.
func (b *Backend) cluster(name string) (*cluster, error) {
	c := b.clusters[name]
	if c == nil {
		return nil, notFound("postgres cluster", name)
	}
	return c, nil
}

// AddCluster creates a deployed cluster at once, without recording a
// call: test setup.
func (b *Backend) AddCluster(req backend.CreateRequest) (*backend.Credentials, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, creds, err := b.place(req)
	return creds, err
}

// place validates and records a cluster with its machines; b.mu is held.
func (b *Backend) place(req backend.CreateRequest) (*cluster, *backend.Credentials, error) {
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	if b.clusters[req.Name] != nil || b.apps[req.Name] != nil {
		return nil, nil, fmt.Errorf("name %q is already taken: choose another name", req.Name)
	}
	b.subnets++
	org := req.Org
	if org == "" {
		org = "personal"
	}
	c := &cluster{name: req.Name, org: org, region: req.Region, vmSize: req.VMSize, volumeGB: req.VolumeGB,
		generation: 1, subnet: b.subnets, created: b.now(),
		users: map[string]bool{"postgres": true, "pgtuiadmin": true, "repluser": false}, dbs: map[string]bool{"postgres": true}}
	for range req.InitialClusterSize {
		b.addMachine(c, req.Region)
	}
	c.leader = c.machines[0].status.ID
	b.clusters[c.name] = c
	first := c.machines[0].status
	creds := &backend.Credentials{Username: "postgres", Password: SeedPassword, Hostname: c.name + ".internal",
		ProxyPort: 5432, PGPort: 5433, LocalURL: fmt.Sprintf("postgres://postgres:%s@%s:5432/postgres", SeedPassword, first.PrivateIP)}
	return c, creds, nil
}

// addMachine places a running machine; b.mu is held.
func (b *Backend) addMachine(c *cluster, region string) {
	t := b.now()
	m := &machine{status: backend.MachineStatus{ID: b.newMachineID(), Version: c.version, Region: region, Desired: "run",
		State: "running", PrivateIP: fmt.Sprintf("127.0.%d.%d", c.subnet, len(c.machines)+2), VMSize: c.vmSize,
		Created: t, Volume: "vol_" + fmt.Sprint(len(c.machines))}}
	m.event(t, "created", fmt.Sprintf("machine created in %s with a %d GB volume", region, c.volumeGB))
	m.event(t, "started", "machine started")
	c.machines = append(c.machines, m)
}

func (m *machine) event(t time.Time, typ, msg string) {
	m.events = append(m.events, backend.Event{Time: t, Type: typ, Message: msg})
}

// machineStatus is a machine's row as Status reports it.
func (c *cluster) machineStatus(m *machine) backend.MachineStatus {
	s := m.status
	if s.State == "running" {
		// The seed's connection counts, as the fake's pg checks say.
		s.Checks = backend.Checks{Total: 3, Passing: 3}
		s.Started = s.Created // the fake's machines never restart
		s.Role, s.Connections = "replica", 7
		if s.ID == c.leader {
			s.Role, s.Connections = "leader", 31
		}
	} else {
		s.Checks = backend.Checks{Total: 3, Critical: 3}
		s.Connections = -1
	}
	return s
}

func (c *cluster) machine(id string) (*machine, error) {
	for _, m := range c.machines {
		if m.status.ID == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("machine %q not found in %s: see `pgtui machine list -a %s`", id, c.name, c.name)
}

func (c *cluster) running() []*machine {
	var out []*machine
	for _, m := range c.machines {
		if m.status.State == "running" {
			out = append(out, m)
		}
	}
	return out
}

// CreateCluster places the machines and returns the whole deployment as
// an already-filled, closed stream, so tests need no timing.
func (b *Backend) CreateCluster(_ context.Context, req backend.CreateRequest) (<-chan backend.CreateEvent, error) {
	b.record("CreateCluster")
	defer b.mu.Unlock()
	c, creds, err := b.place(req)
	if err != nil {
		return nil, err
	}
	n := len(c.machines)
	evs := []backend.CreateEvent{{Step: "placed", Message: fmt.Sprintf("%d machines placed with volumes", n), Desired: n, Credentials: creds}}
	if b.CreateError != "" {
		delete(b.clusters, c.name)
		evs = append(evs, backend.CreateEvent{Step: "failed", Error: b.CreateError, Done: true})
		return stream(b, evs), nil
	}
	progress := backend.CreateEvent{Step: "progress", Desired: n, Placed: n, ChecksTotal: 3 * n}
	evs = append(evs, progress)
	for i, m := range c.machines {
		evs = append(evs, backend.CreateEvent{Step: "healthy", Machine: m.status.ID,
			Message: fmt.Sprintf("machine %s healthy: checks passing (%s)", m.status.ID, c.machineStatus(m).Role)})
		progress.Healthy, progress.ChecksPassing = i+1, 3*(i+1)
		evs = append(evs, progress)
	}
	done := progress
	done.Step, done.Done, done.Message = "deployed", true, "v0 deployed successfully"
	return stream(b, append(evs, done)), nil
}

// stream stamps the events with the fake clock and returns them closed
// in a buffered channel; b.mu is held.
func stream(b *Backend, evs []backend.CreateEvent) <-chan backend.CreateEvent {
	ch := make(chan backend.CreateEvent, len(evs))
	for _, ev := range evs {
		ev.Time = b.now()
		ch <- ev
	}
	close(ch)
	return ch
}

// ListClusters lists clusters by name.
func (b *Backend) ListClusters(context.Context) ([]backend.ClusterSummary, error) {
	b.record("ListClusters")
	defer b.mu.Unlock()
	out := []backend.ClusterSummary{}
	for _, c := range b.clusters {
		out = append(out, backend.ClusterSummary{Name: c.name, Org: c.org, Region: c.region, State: "deployed",
			Leader: c.leader, Healthy: len(c.running()), Machines: len(c.machines), Platform: c.platform})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SetPlatform makes a cluster look as if it ran elsewhere ("hosts": an
// external cluster), for views that show the platform.
func (b *Backend) SetPlatform(name, platform string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	c.platform = platform
	return nil
}

// Status reports a cluster with its machines sorted by id.
func (b *Backend) Status(_ context.Context, name string) (*backend.ClusterStatus, error) {
	b.record("Status")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	n, healthy := len(c.machines), len(c.running())
	st := &backend.ClusterStatus{Name: c.name, Org: c.org, Version: c.version, Status: "running", Hostname: c.name + ".internal",
		Generation: c.generation, Leader: c.leader, Machines: []backend.MachineStatus{}, Platform: c.platform,
		Deployment: backend.Deployment{Version: c.version, Status: "successful", Description: "Deployment completed successfully",
			Desired: n, Placed: n, Healthy: healthy, Unhealthy: n - healthy}}
	for _, m := range c.machines {
		st.Machines = append(st.Machines, c.machineStatus(m))
	}
	sort.Slice(st.Machines, func(i, j int) bool { return st.Machines[i].ID < st.Machines[j].ID })
	return st, nil
}

// MachineStatus reports one machine with its events.
func (b *Backend) MachineStatus(_ context.Context, name, id string) (*backend.MachineDetail, error) {
	b.record("MachineStatus")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	m, err := c.machine(id)
	if err != nil {
		return nil, err
	}
	return &backend.MachineDetail{MachineStatus: c.machineStatus(m), Events: append([]backend.Event(nil), m.events...)}, nil
}
