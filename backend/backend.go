// Package backend is the one interface the CLI and the cockpit use to
// create and operate clusters, with its request and result types. The
// local platform implements it in backend/local (a client of the agent).
package backend

import (
	"context"
	"time"
)

// Backend is everything a user can do. Every call takes a context for
// cancellation; streams end when the context does.
type Backend interface {
	// Clusters
	CreateCluster(ctx context.Context, req CreateRequest) (<-chan CreateEvent, error)
	ListClusters(ctx context.Context) ([]ClusterSummary, error)
	Status(ctx context.Context, cluster string) (*ClusterStatus, error)
	MachineStatus(ctx context.Context, cluster, machineID string) (*MachineDetail, error)
	Failover(ctx context.Context, cluster string) (*FailoverResult, error)
	Restart(ctx context.Context, cluster string) error
	ScaleVM(ctx context.Context, cluster, size string) error
	ScaleCount(ctx context.Context, cluster string, count int, region string) error
	DestroyCluster(ctx context.Context, cluster string) error
	MachineAction(ctx context.Context, cluster, machineID string, action MachineAction) error
	// ClusterConfig shows the settings `postgres config show` lists;
	// UpdateConfig changes the given ones.
	ClusterConfig(ctx context.Context, cluster string) (*ClusterConfig, error)
	UpdateConfig(ctx context.Context, cluster string, u ConfigUpdate) (*ClusterConfig, error)
	// Metrics samples every machine's exporter: TPS, connections, lag, size.
	Metrics(ctx context.Context, cluster string) ([]MachineMetrics, error)
	// MetricsStream samples every machine each `every` (DefaultMetricsEvery
	// when <= 0, never faster than MinMetricsEvery) until ctx ends, TPS
	// from the commit counters' change since the previous sample. The
	// channel holds one sample: a reader that falls behind gets the newest
	// one, never a backlog, and the producer never waits for it (see
	// SendLatest). It closes when ctx ends or the cluster is gone.
	MetricsStream(ctx context.Context, cluster string, every time.Duration) (<-chan MetricsSample, error)
	// Logs streams the machines' log lines (all of them, or one machine),
	// the last f.Lines first, then new ones while f.Follow.
	Logs(ctx context.Context, cluster string, f LogFilter) (<-chan LogLine, error)
	// Checks returns every machine's health checks (vm, pg, role), by
	// machine id; a machine that does not answer has each one critical.
	Checks(ctx context.Context, cluster string) ([]Check, error)

	// Users and databases
	ListUsers(ctx context.Context, cluster string) ([]User, error)
	ListDatabases(ctx context.Context, cluster string) ([]Database, error)
	CreateUser(ctx context.Context, cluster, name, password string, superuser bool) error
	DropUser(ctx context.Context, cluster, name string) error
	CreateDatabase(ctx context.Context, cluster, name string) error
	DropDatabase(ctx context.Context, cluster, name string) error
	Attach(ctx context.Context, req AttachRequest) (*Attachment, error)
	Detach(ctx context.Context, cluster, app string) error

	// Apps and secrets
	CreateApp(ctx context.Context, name, org string) error
	ListApps(ctx context.Context) ([]App, error)
	DestroyApp(ctx context.Context, name string) error
	ListSecrets(ctx context.Context, app string) ([]Secret, error)
	SetSecrets(ctx context.Context, app string, values map[string]string) error
	UnsetSecrets(ctx context.Context, app string, names []string) error
	// AppEnv returns the app's secrets with .internal hosts rewritten to
	// addresses reachable from this machine.
	AppEnv(ctx context.Context, app string) (map[string]string, error)

	// Backups and point-in-time restore (see backup.go).
	Backups
}

// CreateRequest describes a new cluster. Validate checks it.
type CreateRequest struct {
	Name               string `json:"name"`
	Org                string `json:"org"`
	Region             string `json:"region"`
	VMSize             string `json:"vm_size"`
	VolumeGB           int    `json:"volume_gb"`
	InitialClusterSize int    `json:"initial_cluster_size"`
}

// CreateEvent is one step of a deployment, streamed as it happens.
type CreateEvent struct {
	Time    time.Time `json:"time"`
	Machine string    `json:"machine,omitempty"`
	Step    string    `json:"step"` // placed, volume, initdb, basebackup, started, healthy, deployed, failed
	Message string    `json:"message"`
	// Counts for the deployment monitor line.
	Desired   int `json:"desired"`
	Placed    int `json:"placed"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// ChecksTotal/ChecksPassing count health checks across machines.
	ChecksTotal   int `json:"checks_total"`
	ChecksPassing int `json:"checks_passing"`
	// Credentials is set once, on the first event after the cluster exists.
	Credentials *Credentials `json:"credentials,omitempty"`
	Error       string       `json:"error,omitempty"`
	Done        bool         `json:"done,omitempty"`
}

// Credentials of a new cluster: shown once, never stored in plain view.
type Credentials struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	Hostname  string `json:"hostname"`
	ProxyPort int    `json:"proxy_port"`
	PGPort    int    `json:"pg_port"`
	// LocalURL reaches the cluster from this machine.
	LocalURL string `json:"local_url"`
	// CAFile holds the cluster's CA certificate: URLs verify the server
	// against it (sslmode=verify-full). Empty: no CA.
	CAFile string `json:"ca_file,omitempty"`
}

// ClusterSummary is a row of `postgres list`.
type ClusterSummary struct {
	Name     string `json:"name"`
	Org      string `json:"org"`
	Region   string `json:"region"`
	State    string `json:"state"`
	Leader   string `json:"leader"`
	Healthy  int    `json:"healthy"`
	Machines int    `json:"machines"`
	// Platform runs the nodes: "local" (this machine's agent) or "hosts"
	// (an external cluster registered with `pgtui clusters add`).
	Platform string `json:"platform,omitempty"`
}

// ClusterStatus is `status -a NAME`.
type ClusterStatus struct {
	Name       string `json:"name"`
	Org        string `json:"org"`
	Version    int    `json:"version"`
	Status     string `json:"status"`
	Hostname   string `json:"hostname"`
	Generation int64  `json:"generation"`
	Leader     string `json:"leader"`
	// SyncStandby is the standby every commit waits for; empty when the
	// leader commits asynchronously (Async), e.g. right after a failover.
	SyncStandby string `json:"sync_standby,omitempty"`
	Async       bool   `json:"async"`
	// ReadOnly: the leader refuses writes, for ReadOnlyReason (by hand,
	// or its volume nearly full).
	ReadOnly       bool            `json:"read_only,omitempty"`
	ReadOnlyReason string          `json:"read_only_reason,omitempty"`
	Deployment     Deployment      `json:"deployment"`
	Machines       []MachineStatus `json:"machines"`
	// Platform: see ClusterSummary; "" is local.
	Platform string `json:"platform,omitempty"`
}

// Deployment is the deployment status block.
type Deployment struct {
	Version     int    `json:"version"`
	Status      string `json:"status"`
	Description string `json:"description"`
	Desired     int    `json:"desired"`
	Placed      int    `json:"placed"`
	Healthy     int    `json:"healthy"`
	Unhealthy   int    `json:"unhealthy"`
}

// Checks counts a machine's health checks.
type Checks struct {
	Total    int `json:"total"`
	Passing  int `json:"passing"`
	Critical int `json:"critical"`
}

// Check is one health check of one machine, as the node evaluated it.
type Check struct {
	Machine string `json:"machine"`
	Region  string `json:"region"`
	Name    string `json:"name"`   // vm, pg, role
	Status  string `json:"status"` // passing, warning, critical
	// Output lines as flyctl prints them: "[✓] load averages: 0.29 0.35 0.50"
	// ("leader" for the role check).
	Output []string `json:"output"`
	// Connections: client connections the pg check counted; nil on other
	// checks and when postgres did not answer.
	Connections *int `json:"connections,omitempty"`
	// Updated is when the check's status or output last changed.
	Updated time.Time `json:"updated"`
}

// MachineStatus is a machine row.
type MachineStatus struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Region    string    `json:"region"`
	Desired   string    `json:"desired"` // run, stop
	State     string    `json:"state"`   // running, stopped, starting, exited, replacing
	Role      string    `json:"role"`    // leader, replica, fenced, ""
	PrivateIP string    `json:"private_ip"`
	VMSize    string    `json:"vm_size"`
	Checks    Checks    `json:"checks"`
	Restarts  int       `json:"restarts"`
	Created   time.Time `json:"created"`
	LagBytes  int64     `json:"lag_bytes"`
	// Connections: client connections at the last pg check; -1 unknown.
	Connections int `json:"connections"`
	// Started: when the running node last started (uptime); zero when
	// it does not run.
	Started time.Time `json:"started,omitzero"`
	Volume  string    `json:"volume"`
}

// Event is a machine event.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // created, started, exited, restarted, replaced, stopped
	Message string    `json:"message"`
}

// MachineDetail is `machine status ID`.
type MachineDetail struct {
	MachineStatus
	Events []Event `json:"events"`
}

// MachineAction is a machine lifecycle verb.
type MachineAction string

// Machine actions.
const (
	ActionStart   MachineAction = "start"
	ActionStop    MachineAction = "stop"
	ActionRestart MachineAction = "restart"
	ActionKill    MachineAction = "kill"
)

// FailoverResult names the leaders before and after.
type FailoverResult struct {
	OldLeader string        `json:"old_leader"`
	NewLeader string        `json:"new_leader"`
	Took      time.Duration `json:"took"`
}

// ClusterConfig is a cluster's operator settings and the state they cause.
type ClusterConfig struct {
	SSL              bool    `json:"ssl"`
	ReadOnlyBelowPct float64 `json:"read_only_below_pct"`
	SyncMode         bool    `json:"sync_mode"`
	Strict           bool    `json:"strict"`
	MaxLagBytes      int64   `json:"max_lag_bytes"`
	// ReadOnly: the leader refuses writes now (volume nearly full).
	ReadOnly bool    `json:"read_only"`
	FreePct  float64 `json:"free_pct"`
	// ReadOnlyByHand: the operator switched the cluster to read-only
	// (--read-only) until --read-write; ReadOnlyReason says why it is.
	ReadOnlyByHand bool   `json:"read_only_by_hand"`
	ReadOnlyReason string `json:"read_only_reason,omitempty"`
	// CA is the certificate (PEM) clients verify the servers against with
	// sslmode=verify-full; empty where nodes serve self-signed ones.
	CA string `json:"ca,omitempty"`
}

// ConfigUpdate names the settings to change; nil fields stay.
type ConfigUpdate struct {
	SSL              *bool    `json:"ssl,omitempty"`
	ReadOnlyBelowPct *float64 `json:"read_only_below_pct,omitempty"`
	MaxLagBytes      *int64   `json:"max_lag_bytes,omitempty"`
	// ReadOnly: true switches the cluster to read-only by hand, false
	// back to read-write (the free-space threshold still applies).
	ReadOnly *bool `json:"read_only,omitempty"`
}

// MachineMetrics is a current summary of one machine's postgres.
type MachineMetrics struct {
	Machine     string  `json:"machine"`
	Region      string  `json:"region"`
	Up          bool    `json:"up"`
	TPS         float64 `json:"tps"`
	Connections float64 `json:"connections"`
	LagSeconds  float64 `json:"lag_seconds"`
	SizeBytes   float64 `json:"size_bytes"`
}

// MetricsSample is one reading of every machine of a cluster, as
// MetricsStream sends it.
type MetricsSample struct {
	Time time.Time `json:"time"`
	// Leader is the machine that leads and holds the leader key, "" while
	// there is none.
	Leader   string           `json:"leader,omitempty"`
	Machines []MachineMetrics `json:"machines"`
}

// LogFilter selects log lines.
type LogFilter struct {
	Machine string `json:"machine,omitempty"`
	Follow  bool   `json:"follow"`
	Lines   int    `json:"lines"` // how many past lines per machine; 0 = 100
}

// LogLine is one line of a machine's processes (postgres, keeper,
// sentinel, proxy, exporter).
type LogLine struct {
	Time    time.Time `json:"time"`
	Machine string    `json:"machine"`
	Region  string    `json:"region"`
	Proc    string    `json:"proc"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// User is a row of `users list`.
type User struct {
	Name      string   `json:"name"`
	Superuser bool     `json:"superuser"`
	Databases []string `json:"databases"`
}

// Database is a row of `db list`.
type Database struct {
	Name  string   `json:"name"`
	Users []string `json:"users"`
}

// AttachRequest attaches an app to a postgres cluster.
type AttachRequest struct {
	Cluster      string `json:"cluster"`
	App          string `json:"app"`
	DatabaseName string `json:"database_name,omitempty"`
	DatabaseUser string `json:"database_user,omitempty"`
	VariableName string `json:"variable_name,omitempty"`
}

// Attachment is what attach created.
type Attachment struct {
	App          string `json:"app"`
	Cluster      string `json:"cluster"`
	Database     string `json:"database"`
	User         string `json:"user"`
	VariableName string `json:"variable_name"`
	// URL is the stored connection string (host <cluster>.internal).
	URL string `json:"url"`
}

// App is a user application that can hold secrets.
type App struct {
	Name     string    `json:"name"`
	Org      string    `json:"org"`
	Created  time.Time `json:"created"`
	Postgres bool      `json:"postgres"`
}

// Secret is a secret's name and digest (never its value).
type Secret struct {
	Name    string    `json:"name"`
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}
