package main

import (
	"github.com/spf13/cobra"
)

// newRoot builds the command tree over d; tests pass buffers and a fake
// backend, main passes the terminal and the local platform.
func newRoot(d *deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "pgtui",
		Short: "Highly available PostgreSQL from your terminal",
		Long: `pgtui creates and operates highly available PostgreSQL clusters: a full-screen cockpit and a flyctl-style CLI.

Run without a command to open the cockpit (press ? inside for its keys).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCockpit(cmd.Context(), d)
		},
	}
	root.SetOut(d.Out)
	root.SetErr(d.Err)
	root.SetIn(d.In)
	for _, f := range []func() *cobra.Command{newVersion, newNode, newAgent, newEtcdMember} {
		root.AddCommand(f())
	}
	for _, f := range []func(*deps) *cobra.Command{
		newPostgres, newClusters, newStatus, newMachine, newScale, newApps, newSecrets, newRun, newLogs, newChecks, newProxy, newDig, newWireguard,
	} {
		root.AddCommand(f(d))
	}
	return root
}
