// Package store keeps the cluster's shared state in etcd: the cluster data
// (written only with compare-and-swap on its revision), each member's info,
// each member's liveness under its own lease, and the leader key that a
// member must hold, under its lease, before its postgres may accept writes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrConflict means the cluster data changed since it was read.
var ErrConflict = errors.New("cluster data changed concurrently")

// Store is one cluster's view of etcd. Keys live under /pgtui/<cluster>/.
type Store struct {
	cli    *clientv3.Client
	prefix string
}

// New scopes a store to one cluster.
func New(cli *clientv3.Client, clusterName string) *Store {
	return &Store{cli: cli, prefix: path.Join("/pgtui", clusterName) + "/"}
}

// Client is the underlying etcd client (for leases and elections).
func (s *Store) Client() *clientv3.Client { return s.cli }

// Prefix is the root of every key of this cluster, for watches.
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) dataKey() string            { return s.prefix + "clusterdata" }
func (s *Store) infoKey(name string) string { return s.prefix + "info/" + name }
func (s *Store) aliveKey(name string) string {
	return s.prefix + "alive/" + name
}
func (s *Store) leaderKey() string { return s.prefix + "leader" }

// ElectionPrefix is where sentinels campaign.
func (s *Store) ElectionPrefix() string { return s.prefix + "sentinel" }

// ClusterData returns the cluster data and its revision; (nil, 0) when the
// cluster was never bootstrapped.
func (s *Store) ClusterData(ctx context.Context) (*cluster.Data, int64, error) {
	resp, err := s.cli.Get(ctx, s.dataKey())
	if err != nil {
		return nil, 0, fmt.Errorf("read cluster data: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, nil
	}
	kv := resp.Kvs[0]
	d, err := cluster.Decode(kv.Value)
	if err != nil {
		return nil, 0, err
	}
	return d, kv.ModRevision, nil
}

// PutClusterData writes d only if the stored revision is still prevRev
// (0: only if absent). It returns the new revision or ErrConflict.
func (s *Store) PutClusterData(ctx context.Context, d *cluster.Data, prevRev int64) (int64, error) {
	cmp := clientv3.Compare(clientv3.ModRevision(s.dataKey()), "=", prevRev)
	if prevRev == 0 {
		cmp = clientv3.Compare(clientv3.CreateRevision(s.dataKey()), "=", 0)
	}
	resp, err := s.cli.Txn(ctx).If(cmp).Then(clientv3.OpPut(s.dataKey(), string(d.Encode()))).Commit()
	if err != nil {
		return 0, fmt.Errorf("write cluster data: %w", err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// PutInfo publishes a member's info. It has no lease so that the last
// known WAL position of a dead member stays readable; liveness is separate.
func (s *Store) PutInfo(ctx context.Context, info *cluster.Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode info %s: %w", info.Name, err)
	}
	if _, err := s.cli.Put(ctx, s.infoKey(info.Name), string(b)); err != nil {
		return fmt.Errorf("publish info %s: %w", info.Name, err)
	}
	return nil
}

// PutAlive marks a member alive for as long as its lease lives.
func (s *Store) PutAlive(ctx context.Context, name string, lease clientv3.LeaseID) error {
	if _, err := s.cli.Put(ctx, s.aliveKey(name), "1", clientv3.WithLease(lease)); err != nil {
		return fmt.Errorf("mark %s alive: %w", name, err)
	}
	return nil
}

// Members reads every member's info and liveness in one consistent read.
func (s *Store) Members(ctx context.Context) (map[string]cluster.MemberState, error) {
	resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	out := map[string]cluster.MemberState{}
	alive := map[string]bool{}
	for _, kv := range resp.Kvs {
		k := strings.TrimPrefix(string(kv.Key), s.prefix)
		switch {
		case strings.HasPrefix(k, "info/"):
			var info cluster.Info
			if err := json.Unmarshal(kv.Value, &info); err != nil {
				return nil, fmt.Errorf("decode info %s: %w", k, err)
			}
			out[info.Name] = cluster.MemberState{Info: &info}
		case strings.HasPrefix(k, "alive/"):
			alive[strings.TrimPrefix(k, "alive/")] = true
		}
	}
	for name, ms := range out {
		ms.Alive = alive[name]
		out[name] = ms
	}
	return out, nil
}

// Leader returns the leader key's holder, or a zero LeaderKey when free.
func (s *Store) Leader(ctx context.Context) (cluster.LeaderKey, error) {
	resp, err := s.cli.Get(ctx, s.leaderKey())
	if err != nil {
		return cluster.LeaderKey{}, fmt.Errorf("read leader key: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return cluster.LeaderKey{}, nil
	}
	var lk cluster.LeaderKey
	if err := json.Unmarshal(resp.Kvs[0].Value, &lk); err != nil {
		return cluster.LeaderKey{}, fmt.Errorf("decode leader key: %w", err)
	}
	return lk, nil
}

// AcquireLeader takes the leader key under lease, if it is free or already
// held under this very lease. It reports whether name now holds it.
func (s *Store) AcquireLeader(ctx context.Context, name string, gen int64, lease clientv3.LeaseID) (bool, error) {
	b, _ := json.Marshal(cluster.LeaderKey{Holder: name, Generation: gen})
	k := s.leaderKey()
	put := clientv3.OpPut(k, string(b), clientv3.WithLease(lease))
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(put).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return false, fmt.Errorf("acquire leader key: %w", err)
	}
	if resp.Succeeded {
		return true, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 || clientv3.LeaseID(kvs[0].Lease) != lease {
		return false, nil
	}
	var lk cluster.LeaderKey
	if err := json.Unmarshal(kvs[0].Value, &lk); err != nil || lk.Holder != name {
		return false, nil
	}
	if lk.Generation == gen {
		return true, nil
	}
	// Same holder and lease, newer generation: update in place.
	resp, err = s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.LeaseValue(k), "=", lease)).
		Then(put).Commit()
	if err != nil {
		return false, fmt.Errorf("update leader key: %w", err)
	}
	return resp.Succeeded, nil
}

// ReleaseLeader deletes the leader key if lease holds it, so a successor
// need not wait for the lease to expire (after a clean stop).
func (s *Store) ReleaseLeader(ctx context.Context, lease clientv3.LeaseID) error {
	k := s.leaderKey()
	_, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.LeaseValue(k), "=", lease)).
		Then(clientv3.OpDelete(k)).Commit()
	if err != nil {
		return fmt.Errorf("release leader key: %w", err)
	}
	return nil
}

// Watch wakes the caller on changes under the cluster prefix; with names
// (e.g. "clusterdata", "leader"), only on changes to those keys. The
// channel is closed when ctx ends.
func (s *Store) Watch(ctx context.Context, names ...string) <-chan struct{} {
	out := make(chan struct{}, 1)
	match := func(key []byte) bool {
		if len(names) == 0 {
			return true
		}
		k := strings.TrimPrefix(string(key), s.prefix)
		for _, n := range names {
			if k == n {
				return true
			}
		}
		return false
	}
	go func() {
		defer close(out)
		watch := func() clientv3.WatchChan {
			return s.cli.Watch(clientv3.WithRequireLeader(ctx), s.prefix, clientv3.WithPrefix())
		}
		wch := watch()
		for {
			select {
			case <-ctx.Done():
				return
			case resp, ok := <-wch:
				if !ok {
					// The watch broke (store outage): back off, then start a new one.
					select {
					case <-ctx.Done():
						return
					case <-time.After(200 * time.Millisecond):
					}
					wch = watch()
					continue
				}
				hit := resp.Canceled
				for _, ev := range resp.Events {
					hit = hit || match(ev.Kv.Key)
				}
				if !hit {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

// DeleteMember removes a member's info and alive keys.
func (s *Store) DeleteMember(ctx context.Context, name string) error {
	if _, err := s.cli.Delete(ctx, s.infoKey(name)); err != nil {
		return fmt.Errorf("delete member %s: %w", name, err)
	}
	if _, err := s.cli.Delete(ctx, s.aliveKey(name)); err != nil {
		return fmt.Errorf("delete member %s: %w", name, err)
	}
	return nil
}

// DeleteCluster removes every key of the cluster.
func (s *Store) DeleteCluster(ctx context.Context) error {
	if _, err := s.cli.Delete(ctx, s.prefix, clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("delete cluster keys: %w", err)
	}
	return nil
}
