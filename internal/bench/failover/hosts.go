package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pgtui/pgtui/internal/hosts"
	"github.com/pgtui/pgtui/internal/testcluster"
)

// hostsFailover times kill -9 of the leader's whole host (node, postgres,
// etcd member) to the first write through a surviving host's proxy, over
// three hosts (internal/hosts). It returns why it did not run, if so.
func hostsFailover(ctx context.Context, bin string, trials int) ([]time.Duration, string, error) {
	if err := hosts.Supported(); err != nil {
		return nil, err.Error(), nil
	}
	c, err := hosts.Start(bin, hosts.Options{})
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	healthy := func() (testcluster.State, error) {
		wctx, cancel := context.WithTimeout(ctx, 120*time.Second)
		defer cancel()
		return c.WaitFor(wctx, "healthy cluster over hosts", testcluster.Healthy(len(c.Hosts)-1, true))
	}
	st, err := healthy()
	if err != nil {
		return nil, "", err
	}
	if err := testcluster.CreateTable(ctx, c.ProxyURL(c.Hosts[0])); err != nil {
		return nil, "", err
	}
	var ds []time.Duration
	id := int64(1 << 40)
	for i := 0; i < trials; i++ {
		old, err := c.Leader(st)
		if err != nil {
			return nil, "", err
		}
		var entry *hosts.Host
		for _, h := range c.Hosts {
			if h != old {
				entry = h
				break
			}
		}
		start := time.Now()
		if err := c.KillHost(old); err != nil {
			return nil, "", err
		}
		for tryWrite(ctx, c.ProxyURL(entry), id) != nil {
			if time.Since(start) > 60*time.Second {
				return nil, "", fmt.Errorf("no write within 60s of killing host %s\n%s", old.Name, c.Logs(40))
			}
		}
		d := time.Since(start)
		id++
		ds = append(ds, d)
		fmt.Fprintf(os.Stderr, "hosts trial %2d: failover %6s\n", i+1, d.Round(time.Millisecond))
		// The host's lease must lapse before it comes back, or its old
		// liveness would pass for health.
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = c.WaitFor(wctx, old.Name+" seen dead", func(s testcluster.State) bool { return !s.Members[old.Name].Alive })
		cancel()
		if err != nil {
			return nil, "", err
		}
		if err := c.RestartHost(old); err != nil {
			return nil, "", err
		}
		if st, err = healthy(); err != nil {
			return nil, "", err
		}
	}
	return ds, "", nil
}
