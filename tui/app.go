// Package tui is the cockpit's shell: a stack of panes built from a
// registry, the global keys, the generated help overlay, the `:` command
// palette and the status line. It routes every message to the pane it
// belongs to and never talks to the backend itself.
package tui

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/views"
)

// Options are what the cockpit is built from.
type Options struct {
	Backend backend.Backend
	// Connect, used when Backend is nil, reaches the platform after the
	// first frame is drawn (starting the local agent can take a second),
	// with a spinner in the status line meanwhile.
	Connect func() (backend.Backend, error)
	// Clock defaults to time.Now.
	Clock func() time.Time
	// Theme defaults to views.DefaultTheme, or views.MonoTheme when
	// NO_COLOR is set (https://no-color.org).
	Theme *views.Theme
	// PSQLTarget builds the psql command for a cluster's leader or one of
	// its machines; nil makes the psql keys report that it is unavailable.
	PSQLTarget func(views.PSQLMsg) (*exec.Cmd, error)
	// OnCredentials receives a new cluster's credentials once, as the
	// wizard sees them, so PSQLTarget can use them.
	OnCredentials func(cluster string, c backend.Credentials)
	// Clipboard receives OSC 52 copies (the terminal); nil disables copy.
	Clipboard io.Writer
	// WireGuard reaches the gateway for the peers pane; nil: none.
	WireGuard func() (api.WireGuard, error)
	// Getenv reads NO_COLOR; defaults to os.Getenv.
	Getenv func(string) string
}

// entry is a pane on the stack with what it was opened on.
type entry struct {
	id    int
	route views.Route
	args  views.Args
	pane  views.Pane
}

// Model is the root model.
type Model struct {
	opts      Options
	theme     *views.Theme
	keys      KeyMap
	help      help.Model
	reg       map[views.Route]route
	stack     []entry
	nextID    int
	width     int
	height    int
	palette   textinput.Model
	paletteOn bool
	helpOn    bool
	status    statusLine
	// connectErr is why Options.Connect failed; the body shows it.
	connectErr error
}

var _ tea.Model = (*Model)(nil)

// New builds the cockpit; Init opens the clusters list.
func New(o Options) *Model {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	t := o.Theme
	if t == nil {
		t = PickTheme(o.Getenv)
	}
	return &Model{opts: o, theme: t, keys: DefaultKeyMap(), help: t.NewHelp(), reg: registry(),
		width: 80, height: 24, palette: newPaletteInput(t), status: newStatusLine(t)}
}

// PickTheme is MonoTheme when NO_COLOR is set to anything non-empty.
func PickTheme(getenv func(string) string) *views.Theme {
	if getenv("NO_COLOR") != "" {
		return views.MonoTheme()
	}
	return views.DefaultTheme()
}

// Init opens the home pane, after connecting when Options.Connect is set.
func (m *Model) Init() tea.Cmd {
	if m.opts.Backend == nil && m.opts.Connect != nil {
		connect := m.opts.Connect
		// In sequence: a connect that returns at once must not finish
		// before its task started (the spinner would never stop).
		return tea.Sequence(
			func() tea.Msg { return views.TaskStartMsg{ID: connectTask, Text: "starting the local platform"} },
			func() tea.Msg { b, err := connect(); return connectedMsg{b: b, err: err} })
	}
	return m.open(views.RouteClusters, views.Args{})
}

const connectTask = "connect"

// connectedMsg is Options.Connect's result.
type connectedMsg struct {
	b   backend.Backend
	err error
}

// connected opens the home pane on the backend, or shows why there is none.
func (m *Model) connected(msg connectedMsg) tea.Cmd {
	done := views.TaskDoneMsg{ID: connectTask, Text: "connected", Err: msg.err}
	if msg.err != nil {
		m.connectErr = msg.err
		return m.status.update(done)
	}
	m.opts.Backend = msg.b
	return tea.Batch(m.status.update(done), m.open(views.RouteClusters, views.Args{}))
}

// psqlReadyMsg carries the psql command to run in the foreground.
type psqlReadyMsg struct {
	cluster string
	cmd     *exec.Cmd
}

// Update routes a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		for _, e := range m.stack {
			e.pane.SetSize(m.paneSize())
		}
		return m, nil
	case tea.KeyMsg:
		return m, m.onKey(msg)
	case tea.MouseMsg:
		return m, m.onMouse(msg)
	case views.ResultMsg:
		return m, m.route(msg)
	case views.OpenPaneMsg:
		return m, m.open(msg.Route, msg.Args)
	case views.BackMsg:
		return m, m.pop()
	case views.TaskDoneMsg:
		cmd := m.status.update(msg)
		if r, ok := msg.Result.(views.ResultMsg); ok {
			cmd = tea.Batch(cmd, m.route(r))
		}
		return m, cmd
	case views.ErrMsg, views.FlashMsg, views.TaskStartMsg, spinner.TickMsg, clearFlashMsg:
		return m, m.status.update(msg)
	case connectedMsg:
		return m, m.connected(msg)
	case views.PSQLMsg:
		return m, m.psql(msg)
	case psqlReadyMsg:
		return m, tea.ExecProcess(msg.cmd, func(err error) tea.Msg {
			if err != nil {
				return views.ErrMsg{Err: fmt.Errorf("psql on %s: %w", msg.cluster, err)}
			}
			return views.FlashMsg{Text: "psql on " + msg.cluster + " ended"}
		})
	case views.CredentialsMsg:
		if f := m.opts.OnCredentials; f != nil {
			f(msg.Cluster, msg.Creds) // an in-memory store, no I/O
		}
		return m, nil
	}
	return m, m.toTop(msg)
}

// psql asks PSQLTarget for the command off the update loop.
func (m *Model) psql(msg views.PSQLMsg) tea.Cmd {
	target := m.opts.PSQLTarget
	if target == nil {
		return views.Err(fmt.Errorf("psql: this cockpit has no way to start psql"))
	}
	on := msg.Cluster
	if msg.Machine != "" {
		on = msg.Machine + " of " + msg.Cluster
	}
	return func() tea.Msg {
		cmd, err := target(msg)
		if err != nil {
			return views.ErrMsg{Err: fmt.Errorf("psql on %s: %w", on, err)}
		}
		return psqlReadyMsg{cluster: on, cmd: cmd}
	}
}

// onKey applies the global keys unless the top pane captures input.
func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, m.keys.ForceQuit) {
		return m.quit()
	}
	if key.Matches(k, m.keys.Cancel) && m.status.cancellable() {
		m.status.cancel()
		return nil
	}
	m.status.clearError()
	switch {
	case m.paletteOn:
		return m.onPaletteKey(k)
	case m.helpOn:
		if key.Matches(k, m.keys.Quit) {
			return m.quit()
		}
		if key.Matches(k, m.keys.Close) {
			m.helpOn = false
		}
		return nil
	}
	if top := m.top(); top != nil && (top.pane.Capturing() || takesEsc(top.pane) && key.Matches(k, m.keys.Back)) {
		return m.toTop(k)
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Help):
		m.helpOn = true
	case key.Matches(k, m.keys.Palette):
		m.paletteOn = true
		m.palette.Reset()
		return m.palette.Focus()
	case key.Matches(k, m.keys.Back):
		return m.pop()
	case key.Matches(k, m.keys.Next):
		return m.rotate()
	default:
		return m.toTop(k)
	}
	return nil
}

// takesEsc: the pane clears something of its own (a filter) before esc
// goes back.
func takesEsc(p views.Pane) bool {
	e, ok := p.(views.EscTaker)
	return ok && e.TakesEsc()
}

func (m *Model) onPaletteKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Back):
		m.paletteOn = false
		return nil
	case key.Matches(k, m.keys.Run):
		m.paletteOn = false
		return m.run(m.palette.Value())
	}
	var cmd tea.Cmd
	m.palette, cmd = m.palette.Update(k)
	return cmd
}

// run executes a palette line.
func (m *Model) run(line string) tea.Cmd {
	c, cluster, err := parseCommand(line)
	if err != nil {
		return views.Err(err)
	}
	if c.quit {
		return m.quit()
	}
	if cluster == "" {
		cluster = m.currentCluster()
	}
	return m.open(c.route, views.Args{Cluster: cluster})
}

// quit stops every pane and ends the program.
func (m *Model) quit() tea.Cmd {
	for _, e := range m.stack {
		e.pane.Stop()
		if c, ok := e.pane.(views.Closer); ok {
			c.Close()
		}
	}
	return tea.Quit
}
