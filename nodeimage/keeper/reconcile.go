package keeper

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
	"github.com/pgtui/pgtui/nodeimage/proxy"
)

// view is one consistent read of the store.
type view struct {
	cd      *cluster.Data
	members map[string]cluster.MemberState
	leader  cluster.LeaderKey
}

func (k *Keeper) read(ctx context.Context) (view, error) {
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Interval*2)
	defer cancel()
	cd, _, err := k.cfg.Store.ClusterData(ctx)
	if err != nil {
		return view{}, err
	}
	ms, err := k.cfg.Store.Members(ctx)
	if err != nil {
		return view{}, err
	}
	lk, err := k.cfg.Store.Leader(ctx)
	if err != nil {
		return view{}, err
	}
	return view{cd: cd, members: ms, leader: lk}, nil
}

// reconcile runs one step: read, route the proxy, act on the target role,
// observe postgres and publish.
func (k *Keeper) reconcile(ctx context.Context) {
	v, err := k.read(ctx)
	if err != nil {
		// Store unreachable: change nothing. The watchdog fences if the
		// lease lapses; a short outage must not drop client connections.
		k.fail("read store", err)
		return
	}
	k.adoptGeneration(v)
	k.memberHosts = k.memberHosts[:0]
	for _, m := range v.members {
		if m.Info != nil && m.Info.Host != "" {
			k.memberHosts = append(k.memberHosts, m.Info.Host)
		}
	}
	sort.Strings(k.memberHosts)
	if v.cd != nil {
		if me := v.cd.Members[k.cfg.Name]; me != nil {
			k.routeProxy(v)
			if err := k.act(ctx, v, me); err != nil {
				k.fail(string(me.Target), err)
			} else {
				k.lastErr = ""
			}
		}
	}
	k.observe(ctx, v)
	k.publish(ctx)
}

func (k *Keeper) act(ctx context.Context, v view, me *cluster.Member) error {
	switch me.Target {
	case cluster.RoleLeader:
		return k.lead(ctx, v)
	case cluster.RoleReplica:
		return k.follow(ctx, v, me.Follow)
	case cluster.RoleFenced:
		return k.stopClean(ctx, v)
	}
	return nil
}

// adoptGeneration carries the generation this member last applied over a
// restart of the node (same data directory), so that a leader that died
// and came back is seen as a lost leader rather than one still starting.
func (k *Keeper) adoptGeneration(v view) {
	if k.adopted {
		return
	}
	k.adopted = true
	if st := v.members[k.cfg.Name]; st.Info != nil && k.cfg.PG.Initialized() {
		k.update(func(i *cluster.Info) { i.Generation = st.Info.Generation })
	}
}

// routeProxy points the proxy at the leader of the newest generation once
// that leader runs as leader and holds the key; until then it refuses.
func (k *Keeper) routeProxy(v view) {
	t := proxy.Target{Generation: v.cd.Generation}
	st := v.members[v.cd.Leader]
	if v.cd.Leader != "" && v.leader.Holder == v.cd.Leader && st.Info != nil &&
		st.Info.Role == cluster.RoleLeader && st.Info.Generation == v.cd.Generation {
		t.Addr = net.JoinHostPort(st.Info.Host, strconv.Itoa(st.Info.PGPort))
	}
	k.cfg.Proxy.SetTarget(t)
}

// observe records what postgres is now.
func (k *Keeper) observe(ctx context.Context, v view) {
	initialized := k.cfg.PG.Initialized()
	if !k.cfg.PG.Running() {
		k.update(func(i *cluster.Info) {
			i.Healthy, i.Streaming, i.Initialized, i.Standbys = false, false, initialized, nil
			if i.Role != cluster.RoleFenced {
				i.Role = cluster.RoleNone
			}
		})
		return
	}
	sctx, cancel := context.WithTimeout(ctx, k.cfg.Interval*2)
	defer cancel()
	st, err := k.cfg.PG.Status(sctx)
	if err != nil {
		k.fail("status", err)
		k.update(func(i *cluster.Info) { i.Healthy = false })
		return
	}
	var wantSync string
	if v.cd != nil {
		wantSync = v.cd.SyncStandby
	}
	k.update(func(i *cluster.Info) {
		i.Healthy, i.Initialized, i.Timeline, i.WAL = true, initialized, st.Timeline, st.WAL
		i.Streaming = st.ReceiverStreaming
		i.Standbys = map[string]uint64{}
		for _, s := range st.Standbys {
			if s.State == "streaming" {
				i.Standbys[s.Name] = s.FlushWAL
			}
			// The standby is now waited for: every commit acknowledged
			// before this moment is at or below the current WAL position.
			if s.Name == wantSync && s.SyncState == "sync" && i.SyncApplied != wantSync && k.appliedSync == quoteName(wantSync) {
				i.SyncApplied, i.SyncAppliedWAL = wantSync, st.WAL
			}
		}
		switch {
		case st.InRecovery:
			i.Role = cluster.RoleReplica
		case k.writable.Load():
			i.Role = cluster.RoleLeader
		}
	})
}

// publish writes the info and, once per lease, the alive key.
func (k *Keeper) publish(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Interval*2)
	defer cancel()
	id, _ := k.cfg.Lease.Current()
	if id != 0 && int64(id) != k.aliveLease {
		if err := k.cfg.Store.PutAlive(ctx, k.cfg.Name, id); err != nil {
			k.fail("publish alive", err)
			return
		}
		k.aliveLease = int64(id)
	}
	info := k.Info()
	// Publish changes at once, and refresh now and then even without.
	if sameInfo(info, k.published) && time.Since(k.publishedAt) < 4*k.cfg.Interval {
		return
	}
	info.UpdatedAt = time.Now().UTC()
	if err := k.cfg.Store.PutInfo(ctx, &info); err != nil {
		k.fail("publish info", err)
		return
	}
	k.published, k.publishedAt = info, time.Now()
}

func sameInfo(a, b cluster.Info) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	if len(a.Standbys) == 0 && len(b.Standbys) == 0 {
		a.Standbys, b.Standbys = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// settings is the complete postgres configuration for a role.
func (k *Keeper) settings(cd *cluster.Data, follow *cluster.Info) pg.Settings {
	s := pg.Settings{Params: k.cfg.Params, ReplUser: ReplUser, SSL: cd != nil && !cd.Options.SSLDisabled}
	if follow != nil {
		s.PrimaryConnInfo = pg.ConnInfo{
			Host: follow.Host, Port: follow.PGPort, User: ReplUser,
			Password: k.cfg.Secrets.ReplPassword, AppName: k.cfg.Name,
		}.String()
		s.PrimarySlot = slotName(k.cfg.Name)
		return s
	}
	s.SyncStandbyNames = syncStandbyNames(cd)
	s.ReadOnly = k.Info().ReadOnly
	return s
}

// syncStandbyNames maps the cluster data to what the leader waits for.
func syncStandbyNames(cd *cluster.Data) string {
	switch {
	case cd == nil || !cd.Options.SyncMode:
		return ""
	case cd.SyncStandby != "":
		return quoteName(cd.SyncStandby)
	case cd.Async:
		return ""
	default:
		return "*" // strict: wait for any standby
	}
}

// quoteName quotes a standby name for synchronous_standby_names.
func quoteName(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }

// slotName is the physical replication slot kept for a member on the leader.
func slotName(member string) string {
	out := []byte("pgtui_")
	for _, c := range []byte(member) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			out = append(out, c)
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		default:
			out = append(out, '_')
		}
	}
	return string(out)
}

func (k *Keeper) isStandbyData() bool {
	_, err := os.Stat(filepath.Join(k.cfg.PG.Config().DataDir, "standby.signal"))
	return err == nil
}

func (k *Keeper) adminConn(i *cluster.Info) pg.ConnInfo {
	return pg.ConnInfo{Host: i.Host, Port: i.PGPort, User: AdminUser, Password: k.cfg.Secrets.AdminPassword, DBName: "postgres"}
}

func (k *Keeper) replConn(i *cluster.Info) pg.ConnInfo {
	return pg.ConnInfo{Host: i.Host, Port: i.PGPort, User: ReplUser, Password: k.cfg.Secrets.ReplPassword, AppName: k.cfg.Name}
}
