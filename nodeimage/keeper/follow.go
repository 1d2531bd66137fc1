package keeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// follow makes the local postgres a streaming replica of the leader.
func (k *Keeper) follow(ctx context.Context, v view, leader string) error {
	if k.writable.Load() || (k.Info().Role == cluster.RoleFenced && !k.Info().CleanStop) {
		// We were leader and another member now is: we may hold WAL it
		// never got, so stop now and rewind before following.
		k.fence("demoted: another member leads")
		k.needRewind = true
	}
	k.releaseKeyIfHeld(ctx, v)
	st := v.members[leader]
	if leader == "" || !st.Alive || st.Info == nil || st.Info.Role != cluster.RoleLeader || st.Info.Generation != v.cd.Generation {
		// The leader is not up yet. A replica keeps running; a primary
		// must not, so that two writable primaries never coexist.
		if k.cfg.PG.Running() && !k.isStandbyData() {
			return k.cfg.PG.Stop(ctx, pg.StopImmediate)
		}
		return nil
	}
	if err := k.prepareData(ctx, st.Info); err != nil {
		return err
	}
	change, err := k.writeConf(k.settings(v.cd, st.Info))
	if err != nil {
		return err
	}
	switch {
	case !k.cfg.PG.Running():
		k.log.Info("starting as replica", "leader", leader, "generation", v.cd.Generation)
		if err := k.cfg.PG.Start(ctx); err != nil {
			return k.startFailed(err)
		}
		k.startFailures = 0
		k.lastStreamed = time.Now()
	case change == pg.NeedRestart:
		k.log.Info("restarting replica for new settings", "leader", leader)
		if err := k.cfg.PG.Stop(ctx, pg.StopFast); err != nil {
			return err
		}
		if err := k.cfg.PG.Start(ctx); err != nil {
			return err
		}
	case change == pg.NeedReload:
		if err := k.cfg.PG.Reload(ctx); err != nil {
			return err
		}
	}
	if k.Info().Follow != leader {
		k.lastStreamed = time.Now() // give the new upstream time to connect
	}
	k.update(func(i *cluster.Info) {
		i.Generation, i.Follow, i.CleanStop = v.cd.Generation, leader, false
	})
	k.checkStreaming()
	return nil
}

// startFailed counts failed replica starts. Data that a rewind left
// unable to recover (seen with pg_rewind when the last common checkpoint is
// on an older timeline) is replaced by a fresh base backup. A port held by
// another process does not count: the data is not at fault.
func (k *Keeper) startFailed(err error) error {
	if errors.Is(err, pg.ErrPortInUse) {
		return err
	}
	k.startFailures++
	if k.startFailures >= 2 {
		k.log.Warn("replica cannot start; its data will be replaced by a fresh base backup", "failures", k.startFailures)
		k.startFailures = 0
		k.needBackup = true
	}
	return err
}

// checkStreaming marks the data for a rewind when the replica cannot
// stream from its leader for too long (its timeline diverged).
func (k *Keeper) checkStreaming() {
	if k.Info().Streaming {
		k.lastStreamed = time.Now()
		return
	}
	if time.Since(k.lastStreamed) > k.cfg.RejoinTimeout {
		k.log.Warn("replica not streaming; will rewind", "for", time.Since(k.lastStreamed).Round(time.Millisecond))
		k.needRewind = true
		k.lastStreamed = time.Now()
	}
}

// prepareData gets a data directory that can follow the leader: a fresh
// base backup when there is none, a pg_rewind when it was a primary or
// diverged, and a fresh base backup when the rewind fails.
func (k *Keeper) prepareData(ctx context.Context, leader *cluster.Info) error {
	if k.needBackup {
		if err := k.cfg.PG.Stop(ctx, pg.StopImmediate); err != nil {
			return err
		}
		if err := k.cfg.PG.RemoveData(); err != nil {
			return err
		}
		k.needBackup = false
	}
	if !k.cfg.PG.Initialized() {
		return k.baseBackup(ctx, leader)
	}
	if !k.needRewind && k.isStandbyData() {
		return nil
	}
	if err := k.cfg.PG.Stop(ctx, pg.StopFast); err != nil {
		return err
	}
	k.log.Info("rewinding to the leader's timeline", "leader", leader.Name)
	// pg_rewind needs the standby settings in place to finish recovery.
	if err := k.cfg.PG.Rewind(ctx, k.adminConn(leader)); err != nil {
		k.log.Warn("pg_rewind failed; taking a fresh base backup", "err", err)
		if err := k.cfg.PG.RemoveData(); err != nil {
			return err
		}
		return k.baseBackup(ctx, leader)
	}
	k.needRewind = false
	return nil
}

func (k *Keeper) baseBackup(ctx context.Context, leader *cluster.Info) error {
	k.log.Info("pg_basebackup from leader", "leader", leader.Name)
	start := time.Now()
	if err := k.cfg.PG.BaseBackup(ctx, k.replConn(leader)); err != nil {
		return fmt.Errorf("base backup from %s: %w", leader.Name, err)
	}
	k.needRewind = false
	k.log.Info("base backup done", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (k *Keeper) releaseKeyIfHeld(ctx context.Context, v view) {
	if v.leader.Holder == k.cfg.Name {
		k.releaseKey(ctx)
	}
}
