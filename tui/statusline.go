package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/views"
)

// flashFor is how long a notice stays in the status line.
const flashFor = 4 * time.Second

// clearFlashMsg ends the notice with the same seq.
type clearFlashMsg struct{ seq int }

type task struct {
	id, text string
	cancel   func() // nil: the task cannot be cancelled
}

// statusLine is the bottom line: running tasks with a spinner, else the
// last error (until the next key), else a passing notice (k9s' flash).
type statusLine struct {
	theme    *views.Theme
	err      string
	flash    string
	flashSeq int
	tasks    []task
	spin     spinner.Model
	spinning bool
}

func newStatusLine(t *views.Theme) statusLine {
	return statusLine{theme: t, spin: t.NewSpinner()}
}

// clearError is called on every key: the user has seen it.
func (s *statusLine) clearError() { s.err = "" }

func (s *statusLine) fail(err error) { s.err = err.Error() }

func (s *statusLine) notice(text string) tea.Cmd {
	s.flashSeq++
	s.flash = text
	seq := s.flashSeq
	return tea.Tick(flashFor, func(time.Time) tea.Msg { return clearFlashMsg{seq: seq} })
}

// update handles the status line's own messages.
func (s *statusLine) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case views.ErrMsg:
		s.fail(msg.Err)
	case views.FlashMsg:
		return s.notice(msg.Text)
	case clearFlashMsg:
		if msg.seq == s.flashSeq {
			s.flash = ""
		}
	case views.TaskStartMsg:
		s.tasks = append(s.tasks, task{id: msg.ID, text: msg.Text, cancel: msg.Cancel})
		if !s.spinning {
			s.spinning = true
			return s.spin.Tick
		}
	case views.TaskDoneMsg:
		s.finish(msg.ID)
		if msg.Err != nil {
			s.fail(msg.Err)
			return nil
		}
		return s.notice(msg.Text)
	case spinner.TickMsg:
		if len(s.tasks) == 0 {
			s.spinning = false
			return nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return cmd
	}
	return nil
}

// cancellable reports whether the newest task can be cancelled.
func (s *statusLine) cancellable() bool {
	return len(s.tasks) > 0 && s.tasks[len(s.tasks)-1].cancel != nil
}

// cancel ends the newest task's context; its TaskDoneMsg follows.
func (s *statusLine) cancel() {
	if !s.cancellable() {
		return
	}
	t := &s.tasks[len(s.tasks)-1]
	t.cancel()
	t.cancel = nil
	t.text += " (cancelling…)"
}

// finish removes the oldest running task with id.
func (s *statusLine) finish(id string) {
	for i, t := range s.tasks {
		if t.id == id {
			s.tasks = append(s.tasks[:i], s.tasks[i+1:]...)
			return
		}
	}
}

func (s *statusLine) view(width int) string {
	switch {
	case s.err != "":
		return s.theme.Error.Render(views.Truncate("✗ "+s.err, width))
	case len(s.tasks) > 0:
		text := s.tasks[len(s.tasks)-1].text
		if n := len(s.tasks) - 1; n > 0 {
			text += fmt.Sprintf(" (+%d more)", n)
		}
		if s.cancellable() {
			text += " · ctrl+x cancels"
		}
		return views.Truncate(s.spin.View()+" "+text, width)
	case s.flash != "":
		return s.theme.Flash.Render(views.Truncate(s.flash, width))
	}
	return ""
}
