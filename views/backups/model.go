// Package backups lists a cluster's backups and its restorable window,
// takes a backup (b, with its progress in the status bar) and restores
// into a new cluster through a wizard that shows the window.
package backups

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

const refreshEvery = 10 * time.Second

// timeLayout is how times show, as `backup list` prints them.
const timeLayout = "2006-01-02 15:04:05Z07:00"

// Model is the backups pane of one cluster.
type Model struct {
	*views.ListPane[*backend.BackupList, backend.BackupItem]
	c       views.Common
	cluster string
	keys    KeyMap
	last    *backend.BackupList // the newest answer: the window
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the backups pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap()}
	m.ListPane = views.NewListPane(c, views.ListSpec[*backend.BackupList, backend.BackupItem]{
		Columns: columns, Every: refreshEvery, Fetch: list(c.Backend, args.Cluster),
		Items:  func(l *backend.BackupList) []backend.BackupItem { return l.Backups },
		Loaded: func(l *backend.BackupList) { m.last = l },
		Rows:   rows,
		Head:   func() string { return c.Theme.Header.Render("Backups of " + args.Cluster) },
		Tail:   m.tail, Keys: &m.keys})
	return m
}

// Title names the pane.
func (m *Model) Title() string { return "backups " + m.cluster }

// Update handles keys, the list and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if _, ok := r.Msg.(views.TaskResult); ok {
			return m, m.Refresh()
		}
	}
	if cmd, ok := m.ListPane.Update(msg); ok {
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		return m, m.onKey(k)
	}
	return m, nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	b, id, c := m.c.Backend, m.c.PaneID, m.cluster
	switch {
	case key.Matches(k, m.keys.Full):
		return backup(b, id, c, "full")
	case key.Matches(k, m.keys.Diff):
		return backup(b, id, c, "diff")
	case key.Matches(k, m.keys.Restore):
		var req backend.RestoreRequest
		title := "Restore " + c + " into a new cluster"
		if w := m.window(); w != "" {
			title += "\nRestorable " + w
		}
		sel := ""
		if it, ok := m.Selected(); ok {
			sel = it.ID
		}
		p := views.NewPrompt(m.c.Theme, title, func(v []string) (err error) { req, err = parse(c, v); return },
			views.Field{Label: "New cluster"},
			views.Field{Label: "Time", Placeholder: "empty: latest; e.g. " + m.exampleTime()},
			views.Field{Label: "Backup", Placeholder: orText(sel, "empty: by time")})
		m.Ask(p, func() tea.Cmd { return restore(b, id, req) })
	}
	return nil
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return "e.g. " + s
}

// window is the restorable window, "" before the first backup.
func (m *Model) window() string {
	if m.last == nil || m.last.Earliest.IsZero() {
		return ""
	}
	return "from " + m.last.Earliest.UTC().Format(timeLayout) + " to " + m.last.Latest.UTC().Format(timeLayout)
}

func (m *Model) exampleTime() string {
	if m.last == nil || m.last.Latest.IsZero() {
		return "2026-12-02 10:00:00+00"
	}
	return m.last.Latest.UTC().Format("2006-01-02 15:04:05+00")
}

// tail: the restorable window and a failing archive, under the table.
func (m *Model) tail() string {
	t := m.c.Theme
	var out []string
	if w := m.window(); w != "" {
		out = append(out, "", "Restorable "+w)
	} else if m.last != nil {
		out = append(out, "", t.Warning.Render("No backup yet: nothing is restorable. Press b to take one."))
	}
	if m.last != nil && m.last.ArchiveError != "" {
		out = append(out, t.Warning.Render("WAL archiving is failing: "+m.last.ArchiveError))
	}
	return strings.Join(out, "\n")
}

// View draws the list, the window and any open dialog.
func (m *Model) View() string {
	if !m.Loaded() {
		return m.c.Theme.Dim.Render("Loading backups of " + m.cluster + "…")
	}
	return m.ListPane.View()
}

// columns are the table's headers, as `backup list` has them.
var columns = []string{"ID", "Type", "Started", "Finished", "Size", "Stored", "WAL"}

func rows(items []backend.BackupItem) [][]string {
	out := make([][]string, len(items))
	for i, b := range items {
		out[i] = []string{b.ID, b.Type, b.Start.UTC().Format(timeLayout), b.Stop.UTC().Format(timeLayout),
			views.Bytes(b.Size), views.Bytes(b.RepoSize), b.WALStart + " .. " + b.WALStop}
	}
	return out
}

// parse checks the wizard's values: the new name, then a time (empty:
// the latest moment) or a backup id.
func parse(source string, v []string) (backend.RestoreRequest, error) {
	req := backend.RestoreRequest{Source: source, Target: strings.TrimSpace(v[0]), BackupID: strings.TrimSpace(v[2])}
	at := strings.TrimSpace(v[1])
	switch {
	case at != "" && req.BackupID != "":
		return req, fmt.Errorf("give a time or a backup, not both")
	case at != "":
		t, err := parseTime(at)
		if err != nil {
			return req, err
		}
		req.Time = t
	case req.BackupID == "":
		req.Latest = true
	}
	return req, req.Validate()
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: use 2026-12-02 10:00:00+00", s)
}
