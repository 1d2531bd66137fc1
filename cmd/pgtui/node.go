package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/keeper"
	"github.com/pgtui/pgtui/nodeimage/logring"
	"github.com/pgtui/pgtui/nodeimage/pg"
	"github.com/pgtui/pgtui/nodeimage/store"
	"github.com/spf13/cobra"
)

// Secret environment variables; passwords never come from flags.
const (
	envSuperuser = "PGTUI_SUPERUSER_PASSWORD"
	envAdmin     = "PGTUI_ADMIN_PASSWORD"
	envRepl      = "PGTUI_REPL_PASSWORD"
)

func newNode() *cobra.Command {
	var (
		cfg         nodeimage.Config
		secretsFile string
		caFile      string
		caKeyFile   string
		asyncMode   bool
		strict      bool
		maxLag      int64
		leaseTTL    time.Duration
		memoryMB    int
		interval    time.Duration
		checkEvery  time.Duration
		bf          nodeBackupFlags
	)
	cmd := &cobra.Command{
		Use:    "node",
		Short:  "Run one HA PostgreSQL node (keeper, sentinel, proxy)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Long: `Runs one node of an HA cluster: postgres on --pg-port under a keeper, a sentinel,
a proxy to the current leader on --proxy-port, health checks on --health-port
(GET /health open; GET /checks and GET /logs need the cluster's token, see
docs/ARCHITECTURE.md) and Prometheus metrics on --metrics-port (GET /metrics).
With an etcd cluster over TLS give https endpoints and --etcd-cacert,
--etcd-cert and --etcd-key together.
Passwords come from ` + envSuperuser + `, ` + envAdmin + ` and ` + envRepl + `,
or from --secrets-file (KEY=VALUE lines with those names, mode 0600).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sec, err := loadSecrets(secretsFile)
			if err != nil {
				return err
			}
			cfg.Secrets = sec
			if cfg.Backup, err = bf.config(secretsFile); err != nil {
				return err
			}
			if cfg.TLSCA, err = loadCA(caFile, caKeyFile); err != nil {
				return err
			}
			cfg.Params = nodeimage.MemoryParams(memoryMB)
			cfg.Options = cluster.Options{SyncMode: !asyncMode, Strict: strict, MaxLagBytes: maxLag}
			cfg.Timing = nodeimage.DefaultTiming()
			cfg.Timing.LeaseTTL, cfg.Timing.Interval, cfg.Timing.Checks = leaseTTL, interval, checkEvery
			// Every line goes to stderr and to the ring that GET /logs serves.
			cfg.Logs = logring.New(logring.DefaultSize)
			out := io.MultiWriter(cmd.ErrOrStderr(), cfg.Logs)
			cfg.Log = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
			cfg.PGLog = prefixWriter(out, "proc=postgres node="+cfg.Name+" ")
			return nodeimage.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Name, "name", "", "node (member) name, unique in the cluster")
	f.StringVar(&cfg.Cluster, "cluster", "", "cluster name")
	f.StringVar(&cfg.DataDir, "data-dir", defaultDataDir(), "volume directory (postgres data lives in <data-dir>/pgdata; default $PGTUI_DATA_DIR if set)")
	f.StringVar(&cfg.ListenHost, "listen", "127.0.0.1", "address every port binds to")
	f.StringVar(&cfg.AdvertiseHost, "advertise", "", "address other nodes reach this one on (default: --listen)")
	f.StringSliceVar(&cfg.EtcdEndpoints, "etcd-endpoints", []string{"http://127.0.0.1:2379"}, "etcd endpoints")
	f.StringVar(&cfg.EtcdTLS.CACert, "etcd-cacert", "", "CA certificate (PEM) that signed the etcd members' certificates; with --etcd-cert and --etcd-key")
	f.StringVar(&cfg.EtcdTLS.Cert, "etcd-cert", "", "client certificate (PEM) this node presents to etcd")
	f.StringVar(&cfg.EtcdTLS.Key, "etcd-key", "", "private key (PEM) of --etcd-cert")
	f.IntVar(&cfg.ProxyPort, "proxy-port", 5432, "leader proxy port")
	f.IntVar(&cfg.PGPort, "pg-port", 5433, "postgres port")
	f.IntVar(&cfg.HealthPort, "health-port", 5500, "health check port")
	f.IntVar(&cfg.MetricsPort, "metrics-port", 9187, "Prometheus metrics port")
	f.StringVar(&secretsFile, "secrets-file", "", "file with the passwords (mode 0600)")
	f.StringVar(&caFile, "tls-ca-file", "", "the cluster's CA certificate (PEM): the server certificate is signed by it (default: self-signed)")
	f.StringVar(&caKeyFile, "tls-ca-key-file", "", "the CA's private key (PEM, mode 0600), with --tls-ca-file")
	f.BoolVar(&asyncMode, "async", false, "asynchronous replication (default: synchronous)")
	f.BoolVar(&strict, "strict", false, "sync mode: refuse writes rather than fall back to async when no standby is connected")
	f.Int64Var(&maxLag, "max-lag", 1<<20, "never promote a replica more than this many bytes behind")
	f.IntVar(&memoryMB, "memory-mb", 0, "memory of the machine in MB; sizes postgres (0: postgres defaults)")
	f.DurationVar(&leaseTTL, "lease-ttl", nodeimage.DefaultTiming().LeaseTTL, "leader lease TTL")
	f.DurationVar(&interval, "interval", nodeimage.DefaultTiming().Interval, "reconcile interval")
	addCheckFlags(cmd, &cfg.CheckThresholds, &checkEvery)
	bf.add(cmd)
	cmd.AddCommand(newNodeSwitchover())
	return cmd
}

// addCheckFlags declares when the node's health checks turn critical.
func addCheckFlags(cmd *cobra.Command, th *checks.Thresholds, every *time.Duration) {
	d := checks.DefaultThresholds()
	f := cmd.Flags()
	f.DurationVar(every, "check-interval", nodeimage.DefaultTiming().Checks, "how often the health checks run")
	f.DurationVar(&th.CPUWait, "check-cpu-wait", d.CPUWait, "vm check critical when tasks waited for cpu longer than this in the last 10s")
	f.DurationVar(&th.MemoryWait, "check-memory-wait", d.MemoryWait, "vm check critical when tasks waited for memory longer than this in the last 10s")
	f.DurationVar(&th.IOWait, "check-io-wait", d.IOWait, "vm check critical when tasks waited for io longer than this in the last 10s")
	f.Float64Var(&th.MinFreePercent, "check-min-free", d.MinFreePercent, "vm check critical below this percentage of free space on the volume")
	f.DurationVar(&th.MaxLag, "check-max-lag", d.MaxLag, "pg check critical when a replica's replay lags more than this")
}

func newNodeSwitchover() *cobra.Command {
	var (
		endpoints []string
		tlsFiles  etcdtls.Files
		clusterN  string
		target    string
		force     bool
	)
	cmd := &cobra.Command{
		Use:   "switchover",
		Short: "Ask the sentinel for a planned switchover",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tlsCfg, err := etcdtls.ClientConfig(tlsFiles)
			if err != nil {
				return err
			}
			cli, err := nodeimage.NewEtcdClientTLS(endpoints, tlsCfg)
			if err != nil {
				return err
			}
			defer cli.Close()
			return nodeimage.RequestSwitchover(cmd.Context(), store.New(cli, clusterN), target, force)
		},
	}
	cmd.Flags().StringSliceVar(&endpoints, "etcd-endpoints", []string{"http://127.0.0.1:2379"}, "etcd endpoints")
	cmd.Flags().StringVar(&tlsFiles.CACert, "etcd-cacert", "", "CA certificate (PEM) of an etcd over TLS")
	cmd.Flags().StringVar(&tlsFiles.Cert, "etcd-cert", "", "client certificate (PEM) for etcd")
	cmd.Flags().StringVar(&tlsFiles.Key, "etcd-key", "", "key (PEM) of --etcd-cert")
	cmd.Flags().StringVar(&clusterN, "cluster", "", "cluster name")
	cmd.Flags().StringVar(&target, "to", "", "member to promote (default: the best replica)")
	cmd.Flags().BoolVar(&force, "force", false, "allow a replica beyond max lag")
	return cmd
}

func defaultDataDir() string {
	// The node image sets PGTUI_DATA_DIR=/data, its volume.
	if d := os.Getenv("PGTUI_DATA_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		// postgres runs as the postgres user and must reach its data;
		// root's home is 0700.
		return "/var/lib/pgtui/node"
	}
	if d, err := os.UserHomeDir(); err == nil {
		return d + "/.local/share/pgtui/node"
	}
	return "pgtui-node"
}

// loadSecrets reads the passwords from a 0600 file, else the environment.
func loadSecrets(file string) (keeper.Secrets, error) {
	get, err := secretGetter(file)
	if err != nil {
		return keeper.Secrets{}, err
	}
	return keeper.Secrets{SuperuserPassword: get(envSuperuser), AdminPassword: get(envAdmin), ReplPassword: get(envRepl)}, nil
}

// secretGetter reads KEY=VALUE lines from a 0600 file; a key the file
// lacks comes from the environment.
func secretGetter(file string) (func(string) string, error) {
	vals := map[string]string{}
	if file != "" {
		b, err := readPrivateFile(file, "secrets file")
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("secrets file %s: %w", file, err)
		}
	}
	return func(k string) string {
		if v, ok := vals[k]; ok {
			return v
		}
		return os.Getenv(k)
	}, nil
}

// loadCA reads the cluster's CA; none when no file is given.
func loadCA(certFile, keyFile string) (*pg.CA, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("--tls-ca-file and --tls-ca-key-file go together: pass both or neither")
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca-file: %w", err)
	}
	key, err := readPrivateFile(keyFile, "CA key file")
	if err != nil {
		return nil, err
	}
	ca, err := pg.ParseCA(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
	}
	return ca, nil
}

// readPrivateFile reads a file of secrets, refusing one that others can
// read.
func readPrivateFile(file, what string) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s %s has mode %04o: run chmod 600 %s", what, file, fi.Mode().Perm(), file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}
