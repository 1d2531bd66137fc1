package keeper

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// stepDownHold is how long a leader whose postgres died waits before
// taking the role again, so the sentinel can fail over to a standby first.
const stepDownHold = 3 * time.Second

// lead makes the local postgres the writable primary. It becomes writable
// only while this member holds the leader key under a valid lease.
func (k *Keeper) lead(ctx context.Context, v view) error {
	cd := v.cd
	if k.writable.Load() && !k.cfg.PG.Running() {
		// Postgres died under us: step down so a standby can take over.
		k.writable.Store(false)
		k.stepDownAt = time.Now()
		k.releaseKey(ctx)
		return fmt.Errorf("postgres exited while leader; stepped down")
	}
	if !k.stepDownAt.IsZero() && time.Since(k.stepDownAt) < stepDownHold {
		return nil
	}
	if !k.cfg.PG.Initialized() {
		if cd.Generation != 1 {
			return fmt.Errorf("named leader in generation %d but has no data", cd.Generation)
		}
		if err := k.bootstrap(ctx, cd); err != nil {
			return err
		}
	}
	if !k.cfg.Lease.Valid(time.Now(), k.cfg.FenceMargin) {
		return fmt.Errorf("no valid lease yet")
	}
	id, _ := k.cfg.Lease.Current()
	ok, err := k.cfg.Store.AcquireLeader(ctx, k.cfg.Name, cd.Generation, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("leader key held by %s", v.leader.Holder)
	}
	if err := k.becomePrimary(ctx, cd); err != nil {
		return err
	}
	k.stepDownAt = time.Time{}
	k.update(func(i *cluster.Info) {
		i.Role, i.Generation, i.CleanStop, i.Follow = cluster.RoleLeader, cd.Generation, false, ""
	})
	return k.maintainPrimary(ctx, v)
}

// bootstrap creates the cluster's first data directory and roles.
func (k *Keeper) bootstrap(ctx context.Context, cd *cluster.Data) error {
	if k.cfg.Restore != nil {
		if err := k.restore(ctx, cd); err != nil {
			// Leave no half-restored data behind: the next attempt starts
			// from an empty directory again.
			_ = k.cfg.PG.Stop(context.WithoutCancel(ctx), pg.StopImmediate)
			_ = k.cfg.PG.RemoveData()
			return err
		}
	} else {
		k.log.Info("bootstrap: initdb")
		if err := k.cfg.PG.Initdb(ctx); err != nil {
			return err
		}
	}
	if _, err := k.writeConf(k.settings(cd, nil)); err != nil {
		return err
	}
	// Roles are created before the leader key is taken and before the
	// proxy routes anyone here, on the local socket only.
	if err := k.cfg.PG.Start(ctx); err != nil {
		return err
	}
	defer k.cfg.PG.Stop(context.WithoutCancel(ctx), pg.StopFast)
	return k.cfg.PG.EnsureRoles(ctx, []pg.Role{
		{Name: SuperUser, Password: k.cfg.Secrets.SuperuserPassword, Superuser: true},
		{Name: AdminUser, Password: k.cfg.Secrets.AdminPassword, Superuser: true},
		{Name: ReplUser, Password: k.cfg.Secrets.ReplPassword, Replication: true},
	})
}

// restore fills the data directory from a backup and lets postgres
// recover to the target and promote, before any member can follow it.
func (k *Keeper) restore(ctx context.Context, cd *cluster.Data) error {
	k.log.Info("bootstrap: restore from backup")
	if err := k.cfg.Restore(ctx); err != nil {
		return err
	}
	// No synchronous standby can exist yet: recover as a lone primary.
	s := k.settings(cd, nil)
	s.SyncStandbyNames = ""
	if _, err := k.writeConf(s); err != nil {
		return err
	}
	if err := k.cfg.PG.Start(ctx); err != nil {
		return err
	}
	if err := k.cfg.PG.WaitRecoveryEnd(ctx); err != nil {
		return err
	}
	if err := k.cfg.PG.Stop(ctx, pg.StopFast); err != nil {
		return err
	}
	if k.cfg.AfterRestore != nil {
		if err := k.cfg.AfterRestore(); err != nil {
			return err
		}
	}
	k.log.Info("bootstrap: restored and recovered")
	return nil
}

// becomePrimary promotes a running standby, or starts postgres as primary.
func (k *Keeper) becomePrimary(ctx context.Context, cd *cluster.Data) error {
	running := k.cfg.PG.Running()
	if running && k.writable.Load() {
		return nil
	}
	if !running && k.isStandbyData() {
		// A standby's data must be promoted (new timeline), not started
		// as a primary on the old one: start it as a standby first.
		if _, err := k.writeConf(k.standbyLocalSettings()); err != nil {
			return err
		}
		if err := k.cfg.PG.Start(ctx); err != nil {
			return err
		}
		running = true
	}
	// Starting postgres may have outlasted the lease checked in lead. Mark
	// writable first, then check: a lapse before this check is caught
	// here, one after it by the watchdog, which fences a writable member
	// at the deadline.
	k.writable.Store(true)
	if !k.cfg.Lease.Valid(time.Now(), k.cfg.FenceMargin) {
		k.fence("lease lapsed while becoming primary")
		return fmt.Errorf("lease lapsed while becoming primary")
	}
	if running {
		st, err := k.cfg.PG.Status(ctx)
		if err != nil {
			return err
		}
		if st.InRecovery {
			k.log.Info("promoting", "generation", cd.Generation)
			if err := k.cfg.PG.Promote(ctx); err != nil {
				return err
			}
		}
		k.appliedSync = "\x00" // force the primary settings below
		return nil
	}
	s := k.settings(cd, nil)
	if _, err := k.writeConf(s); err != nil {
		return err
	}
	k.appliedSync = s.SyncStandbyNames
	k.log.Info("starting as primary", "generation", cd.Generation)
	return k.cfg.PG.Start(ctx)
}

// checkSpace turns the leader read-only while the operator asked for it
// or its volume is nearly full (default_transaction_read_only, applied by
// maintainPrimary, and enforceReadOnly) and back when neither holds; the
// reason is published for status, the pg check and the metrics.
func (k *Keeper) checkSpace(cd *cluster.Data) {
	_, frac, err := k.cfg.PG.FreeSpace()
	if err != nil {
		k.fail("free space", err)
		return
	}
	limit := cd.Options.ReadOnlyThreshold()
	reason := ""
	switch {
	case cd.Options.ReadOnly:
		reason = "set by hand (pgtui postgres config update --read-write undoes it)"
	case limit >= 0 && frac < limit:
		reason = fmt.Sprintf("volume nearly full: %.1f%% free, below %.0f%%", frac*100, limit*100)
	}
	ro := reason != ""
	if old := k.Info(); ro != old.ReadOnly || reason != old.ReadOnlyReason {
		if ro {
			k.log.Warn("leader switches to read-only", "reason", reason, "free_pct", fmt.Sprintf("%.1f", frac*100))
		} else {
			k.log.Info("leader accepts writes again", "free_pct", fmt.Sprintf("%.1f", frac*100))
		}
	}
	k.update(func(i *cluster.Info) {
		i.ReadOnly, i.ReadOnlyReason, i.FreePct = ro, reason, float64(int(frac*1000))/10
		i.ReadOnlyByHand = cd.Options.ReadOnly
	})
}

// writeConf writes the settings, creating or renewing the TLS
// certificate first when TLS is on. A new certificate on a running
// postgres needs a reload.
func (k *Keeper) writeConf(s pg.Settings) (pg.ConfChange, error) {
	certChanged := false
	if s.SSL {
		hosts := append(append([]string{k.cfg.Host}, k.cfg.TLSNames...), k.memberHosts...)
		changed, err := k.cfg.PG.EnsureCert(k.cfg.TLSCA, hosts...)
		if err != nil {
			return pg.Unchanged, err
		}
		certChanged = changed
	}
	change, err := k.cfg.PG.WriteConf(s)
	if err == nil && certChanged && change == pg.Unchanged {
		change = pg.NeedReload
	}
	return change, err
}

// standbyLocalSettings: a standby with no upstream, used only to promote.
func (k *Keeper) standbyLocalSettings() pg.Settings {
	return pg.Settings{Params: k.cfg.Params, ReplUser: ReplUser, PrimaryConnInfo: "host=invalid.invalid", PrimarySlot: slotName(k.cfg.Name)}
}

// maintainPrimary keeps the synchronous standby setting and the members'
// replication slots in line with the cluster data.
func (k *Keeper) maintainPrimary(ctx context.Context, v view) error {
	k.checkSpace(v.cd)
	s := k.settings(v.cd, nil)
	change, err := k.writeConf(s)
	if err != nil {
		return err
	}
	if change != pg.Unchanged {
		if err := k.cfg.PG.Reload(ctx); err != nil {
			return err
		}
	}
	if s.ReadOnly {
		k.enforceReadOnly(ctx)
	}
	if s.SyncStandbyNames != k.appliedSync {
		k.log.Info("synchronous_standby_names applied", "value", s.SyncStandbyNames)
		k.appliedSync = s.SyncStandbyNames
		k.update(func(i *cluster.Info) {
			i.SyncApplied, i.SyncAppliedWAL, i.AsyncApplied = "", 0, s.SyncStandbyNames == ""
		})
	}
	var slots []string
	for name := range v.cd.Members {
		if name != k.cfg.Name {
			slots = append(slots, slotName(name))
		}
	}
	if err := k.cfg.PG.EnsureSlots(ctx, slots); err != nil {
		return err
	}
	return k.cfg.PG.DropSlotsExcept(ctx, slots)
}

func (k *Keeper) releaseKey(ctx context.Context) {
	id, _ := k.cfg.Lease.Current()
	if id == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, k.cfg.Interval*2)
	defer cancel()
	if err := k.cfg.Store.ReleaseLeader(rctx, id); err != nil {
		k.fail("release leader key", err)
	}
}

// stopClean is the old leader's part of a planned switchover: stop taking
// clients, shut postgres down cleanly (it sends all WAL to the standbys on
// the way), publish the final WAL position, then free the leader key.
func (k *Keeper) stopClean(ctx context.Context, v view) error {
	if k.Info().CleanStop {
		return nil
	}
	k.cfg.Proxy.Fence("switchover")
	k.writable.Store(false)
	if err := k.cfg.PG.Stop(ctx, pg.StopFast); err != nil {
		return err
	}
	final, err := k.cfg.PG.CheckpointWAL(ctx)
	if err != nil {
		return err
	}
	k.update(func(i *cluster.Info) {
		i.CleanStop, i.WAL, i.Role, i.Generation = true, final, cluster.RoleFenced, v.cd.Generation
	})
	k.publish(ctx)
	k.releaseKey(ctx)
	k.log.Info("switchover: stopped cleanly", "wal", pg.FormatLSN(final))
	return nil
}
