package sentinel

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/store"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Sentinel campaigns for the election and, while elected, applies Decide.
type Sentinel struct {
	Name     string
	Store    *store.Store
	Options  cluster.Options // for bootstrap
	Timing   Timing
	TTL      time.Duration // election session TTL
	Interval time.Duration
	Log      *slog.Logger
	// OnDecision, if set, receives every decision taken (timeline events).
	OnDecision func(Decision)

	lastReason string
}

// Run campaigns and decides until ctx ends.
func (s *Sentinel) Run(ctx context.Context) {
	log := s.Log.With("proc", "sentinel")
	for ctx.Err() == nil {
		if err := s.term(ctx, log); err != nil && ctx.Err() == nil {
			log.Warn("sentinel term ended", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(s.Interval):
			}
		}
	}
}

// term is one election session: campaign, then decide while elected.
func (s *Sentinel) term(ctx context.Context, log *slog.Logger) error {
	sess, err := concurrency.NewSession(s.Store.Client(), concurrency.WithTTL(int((s.TTL+time.Second-1)/time.Second)), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, s.Store.ElectionPrefix())
	if err := el.Campaign(ctx, s.Name); err != nil {
		return err
	}
	log.Info("elected sentinel leader")
	wake := s.Store.Watch(ctx)
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if err := s.once(ctx, log); err != nil && !errors.Is(err, store.ErrConflict) {
			log.Warn("decide", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return errors.New("election session expired")
		case <-wake:
		case <-t.C:
		}
	}
}

func (s *Sentinel) once(ctx context.Context, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 2*s.Interval+time.Second)
	defer cancel()
	cd, rev, err := s.Store.ClusterData(ctx)
	if err != nil {
		return err
	}
	members, err := s.Store.Members(ctx)
	if err != nil {
		return err
	}
	lk, err := s.Store.Leader(ctx)
	if err != nil {
		return err
	}
	out, ds := Decide(Input{Data: cd, Members: members, LeaderKey: lk, Options: s.Options, Now: time.Now().UTC(), Timing: s.Timing})
	changed := out != nil && (cd == nil || !bytes.Equal(out.Encode(), cd.Encode()))
	if changed {
		if _, err := s.Store.PutClusterData(ctx, out, rev); err != nil {
			return err
		}
	}
	for _, d := range ds {
		if !changed && d.Reason == s.lastReason {
			continue // an unchanged situation is logged once
		}
		s.lastReason = d.Reason
		log.Info(d.Reason, "kind", d.Kind, "generation", generation(out))
		if s.OnDecision != nil {
			s.OnDecision(d)
		}
	}
	return nil
}

func generation(d *cluster.Data) int64 {
	if d == nil {
		return 0
	}
	return d.Generation
}
