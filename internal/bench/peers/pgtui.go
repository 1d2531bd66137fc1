package main

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage"
)

// pgtuiSystem is ours: three `pgtui node` processes on the embedded etcd
// (internal/testcluster, as in the failover bench), written to through a
// replica's proxy (every node's proxy routes to the leader).
type pgtuiSystem struct {
	c     *testcluster.Cluster
	entry *testcluster.Node
}

func startPgtui(ctx context.Context, dir string) (*pgtuiSystem, error) {
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return nil, err
	}
	c, err := testcluster.Start(bin, testcluster.Options{Nodes: 3})
	if err != nil {
		return nil, err
	}
	s := &pgtuiSystem{c: c}
	if err := until(ctx, 2*time.Minute, "pgtui healthy", s.Healthy); err != nil {
		s.Close()
		return nil, err
	}
	if err := testcluster.CreateTable(ctx, s.URL()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *pgtuiSystem) Name() string { return "pgtui" }

func (s *pgtuiSystem) URL() string { return s.c.ProxyURL(s.entry) }

// Healthy also picks the entry node: a running replica, so that a fault on
// the leader never takes the client's own proxy with it.
func (s *pgtuiSystem) Healthy(ctx context.Context) (bool, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := s.c.Read(rctx)
	if err != nil {
		return false, err
	}
	if !testcluster.Healthy(len(s.c.Nodes)-1, true)(st) {
		return false, nil
	}
	for _, n := range s.c.Nodes {
		if n.Name != st.Data.Leader && n.Running() {
			s.entry = n
			return true, nil
		}
	}
	return false, nil
}

func (s *pgtuiSystem) leader(ctx context.Context) (*testcluster.Node, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := s.c.Read(rctx)
	if err != nil {
		return nil, err
	}
	return s.c.LeaderNode(st)
}

func (s *pgtuiSystem) Inject(ctx context.Context, f fault) (func(context.Context) error, time.Duration, error) {
	l, err := s.leader(ctx)
	if err != nil {
		return nil, 0, err
	}
	switch f {
	case faultKill:
		// The node's postgres dies with it (parent-death signal): the
		// manager and its postgres go down together.
		l.Kill()
		return func(context.Context) error { return s.c.StartNode(l) }, 0, nil
	case faultStop:
		if err := l.Signal(syscall.SIGSTOP); err != nil {
			return nil, 0, err
		}
		// Held past the lease TTL (2 s) so that a failover is due.
		return func(context.Context) error { return l.Signal(syscall.SIGCONT) }, nodeimage.DefaultTiming().LeaseTTL + 2*time.Second, nil
	case faultSwitchover:
		return nil, 0, nodeimage.RequestSwitchover(ctx, s.c.Store, "", false)
	}
	return nil, 0, errors.New("unknown fault")
}

func (s *pgtuiSystem) Close() { s.c.Close() }

func (s *pgtuiSystem) Logs() string { return s.c.Logs(25) }
