package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pgtui/pgtui/backend/agent"
	"github.com/pgtui/pgtui/backend/local"
	"github.com/spf13/cobra"
)

// newAgent is `pgtui agent start|stop|status|run`: the local platform's
// background process. Other commands start it on demand.
func newAgent() *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Manage the local platform's background agent"}
	var etcd []string
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the agent in the foreground",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return agent.Run(cmd.Context(), agent.Config{Home: local.Home(), Bin: exe, EtcdEndpoints: etcd, Log: log})
		},
	}
	run.Flags().StringSliceVar(&etcd, "etcd-endpoints", nil, "use this etcd cluster instead of the embedded one")
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the agent in the background (no-op when running)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := local.Ensure(cmd.Context(), local.Home())
			if err != nil {
				return err
			}
			st, err := c.Ping(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent running (pid %d, home %s)\n", st.PID, st.Home)
			return nil
		},
	}
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the agent and its machines (data is kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := local.New(local.Home())
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			if _, err := c.Ping(ctx); err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), "agent not running")
				return nil
			}
			if err := c.Stop(ctx); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "agent stopped")
			return nil
		},
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show whether the agent runs, and what it runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := local.New(local.Home()).Ping(cmd.Context())
			if err != nil {
				return fmt.Errorf("agent not running (home %s): start it with `pgtui agent start`", local.Home())
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent running\n  PID      = %d\n  Home     = %s\n  Etcd     = %v\n  DNS      = %s\n  Clusters = %d\n  Machines = %d (%d running)\n",
				st.PID, st.Home, st.Etcd, st.DNS, st.Clusters, st.Machines, st.Running)
			return nil
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(run, start, stop, status)
	return cmd
}
