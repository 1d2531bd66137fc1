package main

import (
	"fmt"
	"net/url"
	"time"

	"github.com/pgtui/pgtui/internal/embedetcd"
	"github.com/spf13/cobra"
)

// newEtcdMember runs one member of an etcd cluster over TLS: the store of
// a cluster spread over hosts (docs/DEPLOY.md), and of the hosts tests.
func newEtcdMember() *cobra.Command {
	var (
		m              embedetcd.Member
		client, peer   string
		heart, elected time.Duration
	)
	cmd := &cobra.Command{
		Use:    "etcd-member",
		Short:  "Run one member of an etcd cluster over TLS (client-certificate authentication)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Long: `Runs one etcd member (the etcd library pgtui is built with) serving clients on
--client-url and peers on --peer-url, both over TLS, where clients and peers
must present a certificate signed by --cacert. Start one per host with the
same --initial-cluster; it prints "ready" once the cluster has a quorum.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if m.Client, err = parseURL("--client-url", client); err != nil {
				return err
			}
			if m.Peer, err = parseURL("--peer-url", peer); err != nil {
				return err
			}
			m.Heartbeat, m.Election = heart, elected
			return m.Run(cmd.Context(), func() { fmt.Fprintln(cmd.OutOrStdout(), "ready") })
		},
	}
	f := cmd.Flags()
	f.StringVar(&m.Name, "name", "", "member name, unique in the etcd cluster")
	f.StringVar(&m.Dir, "data-dir", "", "member data directory")
	f.StringVar(&client, "client-url", "", "https://addr:2379 clients connect to")
	f.StringVar(&peer, "peer-url", "", "https://addr:2380 other members connect to")
	f.StringVar(&m.Cluster, "initial-cluster", "", "every member: name=https://addr:2380,...")
	f.StringVar(&m.CertFile, "cert", "", "member certificate (PEM; server and client usage)")
	f.StringVar(&m.KeyFile, "key", "", "key of --cert (PEM)")
	f.StringVar(&m.CAFile, "cacert", "", "CA (PEM) that clients' and peers' certificates must be signed by")
	// A lost raft leader is replaced within about two election timeouts,
	// and no lease is renewed meanwhile: that must fit in the slack of the
	// nodes' 2 s leader lease (docs/ARCHITECTURE.md, "Hosts"), where
	// etcd's default 1 s did not.
	f.DurationVar(&heart, "heartbeat", 100*time.Millisecond, "raft heartbeat interval")
	f.DurationVar(&elected, "election", 500*time.Millisecond, "raft election timeout (at least 5 heartbeats)")
	return cmd
}

func parseURL(flag, s string) (url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return url.URL{}, fmt.Errorf("%s %q: want https://host:port", flag, s)
	}
	return *u, nil
}
