package wizard

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/pgtui/pgtui/views"
)

// monitor is the deployment monitor: cluster-wide counts, a progress
// bar and each machine's latest step.
type monitor struct {
	req      backend.CreateRequest
	counts   backend.CreateEvent // the latest event with counts
	machines []string            // in order of first report
	steps    map[string]backend.CreateEvent
	creds    *backend.Credentials
	done     bool
	result   string // the deployed line, or the failure
	failed   bool
	bar      progress.Model
}

func newMonitor(t *views.Theme, req backend.CreateRequest, width int) *monitor {
	return &monitor{req: req, steps: map[string]backend.CreateEvent{}, bar: t.NewProgress(max(min(width, 80)-2, 10))}
}

// apply records one event; it returns the credentials when this event is
// the one that first carried them.
func (m *monitor) apply(ev backend.CreateEvent) *backend.Credentials {
	var fresh *backend.Credentials
	if ev.Credentials != nil && m.creds == nil {
		m.creds, fresh = ev.Credentials, ev.Credentials
	}
	if ev.Machine != "" {
		if _, seen := m.steps[ev.Machine]; !seen {
			m.machines = append(m.machines, ev.Machine)
		}
		m.steps[ev.Machine] = ev
	} else if ev.Desired > 0 {
		m.counts = ev
	}
	switch {
	case ev.Error != "":
		m.done, m.failed, m.result = true, true, "deployment failed: "+ev.Error
	case ev.Done:
		m.done, m.result = true, render.DeployedLine(ev)
	}
	return fresh
}

// ended marks a stream that closed before a final event.
func (m *monitor) ended() {
	if !m.done {
		m.done, m.failed = true, true
		m.result = fmt.Sprintf("the deployment stream ended early: see :status %s", m.req.Name)
	}
}

// percent weighs placing and becoming healthy equally.
func (m *monitor) percent() float64 {
	c := m.counts
	if m.done && !m.failed {
		return 1
	}
	if c.Desired == 0 {
		return 0
	}
	return min(float64(c.Placed+c.Healthy)/float64(2*c.Desired), 1)
}

func (m *monitor) view(t *views.Theme, width, height int) string {
	lines := []string{
		t.Header.Render(fmt.Sprintf("Creating postgres cluster %s in organization %s", m.req.Name, m.req.Org)),
		"",
		"Monitoring Deployment",
		t.Dim.Render("esc leaves this screen; the deployment continues"),
		"",
		m.bar.ViewAs(m.percent()),
	}
	if m.counts.Desired > 0 {
		lines = append(lines, views.Truncate(render.MonitorLine(m.counts), width))
	}
	lines = append(lines, "")
	room := max(height-len(lines)-2, 1)
	for i, id := range m.machines {
		if i == room {
			lines = append(lines, t.Dim.Render(fmt.Sprintf("… and %d more machines", len(m.machines)-room)))
			break
		}
		ev := m.steps[id]
		lines = append(lines, views.Truncate(fmt.Sprintf("  %s  %-10s %s", id, ev.Step, t.Dim.Render(ev.Message)), width))
	}
	switch {
	case m.failed:
		lines = append(lines, "", t.Bad.Render(views.Wrap(m.result, width)))
	case m.done:
		lines = append(lines, "", t.Good.Render(m.result))
	}
	return strings.Join(lines, "\n")
}

// credsView shows the credentials once, with the warning and the URL.
func credsView(t *views.Theme, m *monitor, width int) string {
	var b strings.Builder
	_ = render.Credentials(&b, m.req.Name, *m.creds) // a strings.Builder does not fail
	block := strings.TrimRight(b.String(), "\n")
	url := connURL(*m.creds, render.ConnectionString(*m.creds))
	lines := []string{
		t.Good.Render(m.result),
		"",
		t.Secret.Render(views.Wrap(block, max(width-2, 20))),
		t.Warning.Render(views.Wrap("These credentials won't be shown again: copy them now.", width)),
		"",
		"Connect from this machine:",
		hardwrap(url, width),
	}
	return strings.Join(lines, "\n")
}

// hardwrap cuts s (a URL, no spaces) into lines of width cells.
func hardwrap(s string, width int) string {
	if width <= 0 {
		return s
	}
	var lines []string
	for r := []rune(s); len(r) > 0; {
		n := min(width, len(r))
		lines = append(lines, string(r[:n]))
		r = r[n:]
	}
	return strings.Join(lines, "\n")
}
