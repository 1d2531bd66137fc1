package wizard

import (
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// labelWidth is the label column of the form.
const labelWidth = 16

// regionRows is how many region matches the open list shows.
const regionRows = 5

// View draws the screen of the current step.
func (m *Model) View() string {
	var body string
	switch m.step {
	case stepForm:
		body = m.formView()
	case stepMonitor:
		body = m.mon.view(m.c.Theme, m.c.Width, m.c.Height)
	case stepCreds:
		body = credsView(m.c.Theme, m.mon, m.c.Width)
	}
	return body + m.modal.View(m.c.Width)
}

func (m *Model) formView() string {
	t, f := m.c.Theme, m.form
	_, errs := f.request()
	lines := []string{t.Header.Render("Create a Postgres cluster"), ""}
	indent := strings.Repeat(" ", labelWidth)
	for fl := range nFields {
		label, marker := t.Label, "  "
		if fl == f.focus {
			label, marker = t.Focused, "> "
		}
		lines = append(lines, marker+label.Render(views.Fit(labels[fl], labelWidth-2))+m.fieldView(fl))
		if fl == f.focus {
			for _, l := range m.listView(fl) {
				lines = append(lines, indent+l)
			}
		}
		if errs[fl] != nil && f.shown(fl) {
			for _, l := range strings.Split(views.Wrap("✗ "+errs[fl].Error(), m.c.Width-labelWidth), "\n") {
				lines = append(lines, indent+t.Bad.Render(l))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// fieldView is a field's one-line value.
func (m *Model) fieldView(fl field) string {
	f, t := m.form, m.c.Theme
	switch fl {
	case fSize:
		return sizeLine(backend.VMSizes()[f.sizeAt])
	case fRegion:
		if r, err := f.region(); err == nil && fl != f.focus {
			return fmt.Sprintf("%s  %s", r.Code, t.Dim.Render(r.Name))
		}
	}
	return f.inputs[fl].View()
}

// listView is the open choice list under the focused region or size.
func (m *Model) listView(fl field) []string {
	f := m.form
	var items []string
	at := 0
	switch fl {
	case fRegion:
		for _, r := range f.regionMatches() {
			items = append(items, fmt.Sprintf("%s  %s", r.Code, r.Name))
		}
		at = f.regionAt
	case fSize:
		for _, s := range backend.VMSizes() {
			items = append(items, sizeLine(s))
		}
		at = f.sizeAt
	default:
		return nil
	}
	from := 0
	if fl == fRegion {
		from = max(min(at-regionRows/2, len(items)-regionRows), 0)
		items = items[from:min(from+regionRows, len(items))]
	}
	out := make([]string, len(items))
	for i, it := range items {
		if from+i == at {
			out[i] = m.c.Theme.Selected.Render("> " + it)
		} else {
			out[i] = "  " + m.c.Theme.Dim.Render(it)
		}
	}
	return out
}
