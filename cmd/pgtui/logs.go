package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/spf13/cobra"
)

type logsOpts struct {
	app, machine string
	noTail       bool
	lines        int
	asJSON       bool
}

// newLogs is `pgtui logs`: every process of every machine, as flyctl
// prints them, following by default.
func newLogs(d *deps) *cobra.Command {
	var o logsOpts
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show and follow a cluster's logs (postgres, keeper, sentinel, proxy, exporter)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogs(cmd.Context(), d, o)
		},
	}
	addAppFlag(cmd, &o.app, "the cluster whose logs to show")
	cmd.Flags().StringVar(&o.machine, "machine", "", "only this machine")
	cmd.Flags().BoolVar(&o.noTail, "no-tail", false, "print the recent lines and exit instead of following")
	cmd.Flags().IntVarP(&o.lines, "lines", "n", 100, "recent lines per machine to start with")
	addJSONFlag(cmd, &o.asJSON)
	return cmd
}

func runLogs(ctx context.Context, d *deps, o logsOpts) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	lines, err := b.Logs(ctx, o.app, backend.LogFilter{Machine: o.machine, Follow: !o.noTail, Lines: o.lines})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(d.Out)
	for l := range lines {
		if o.asJSON {
			if err := enc.Encode(l); err != nil {
				return err
			}
			continue
		}
		d.printf("%s\n", formatLogLine(o.app, l))
	}
	return nil
}

// formatLogLine is flyctl's `time app[id] region [level] message`, with
// the process named first in the message.
func formatLogLine(app string, l backend.LogLine) string {
	level := l.Level
	if level == "" {
		level = "info"
	}
	msg := strings.ReplaceAll(l.Message, "\n", "↩︎")
	return l.Time.UTC().Format(time.RFC3339) + " " + app + "[" + l.Machine + "] " + l.Region + " [" + level + "] " + l.Proc + ": " + msg
}
