package pg

import (
	"context"
	"fmt"
	"time"
)

// WaitRecoveryEnd waits until the running postgres has left recovery (a
// restore that reached its target and promoted). Postgres exiting first
// (for example "recovery ended before configured recovery target was
// reached") is an error carrying its last output.
func (i *Instance) WaitRecoveryEnd(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		i.mu.Lock()
		done, tail := i.done, i.tail
		i.mu.Unlock()
		var inRecovery bool
		if conn, err := i.Connect(ctx); err == nil {
			err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery)
			_ = conn.Close(context.Background())
			if err == nil && !inRecovery {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("recovery of %s: postgres exited:\n%s", i.cfg.DataDir, lastLines([]byte(tail.String()), 8))
		case <-ctx.Done():
			return fmt.Errorf("recovery of %s: %w", i.cfg.DataDir, ctx.Err())
		case <-tick.C:
		}
	}
}
