package main

import (
	"fmt"

	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newPostgresMetrics is `pgtui postgres metrics`: a current summary of each
// machine from its Prometheus exporter.
func newPostgresMetrics(d *deps) *cobra.Command {
	var app string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Show TPS, connections, replication lag and size per machine",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireApp(app); err != nil {
				return err
			}
			b, err := d.backend()
			if err != nil {
				return err
			}
			ms, err := b.Metrics(cmd.Context(), app)
			if err != nil {
				return err
			}
			if asJSON {
				return render.JSON(d.Out, ms)
			}
			var rows [][]string
			for _, m := range ms {
				if !m.Up {
					rows = append(rows, []string{m.Machine, m.Region, "down", "-", "-", "-", "-"})
					continue
				}
				rows = append(rows, []string{m.Machine, m.Region, "up", fmt.Sprintf("%.1f", m.TPS), fmt.Sprintf("%.0f", m.Connections),
					fmt.Sprintf("%.3fs", m.LagSeconds), fmt.Sprintf("%.1f MB", m.SizeBytes/(1<<20))})
			}
			return render.Table(d.Out, "", rows, "MACHINE", "REGION", "POSTGRES", "TPS", "CONNECTIONS", "LAG", "SIZE")
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	addJSONFlag(cmd, &asJSON)
	return cmd
}
