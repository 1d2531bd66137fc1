package main

import (
	"github.com/spf13/cobra"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "pgtui",
		Short:         "Highly available PostgreSQL from your terminal",
		Long:          "pgtui creates and operates highly available PostgreSQL clusters: a full-screen cockpit and a flyctl-style CLI.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range []func() *cobra.Command{newVersion, newNode} {
		root.AddCommand(f())
	}
	return root
}
