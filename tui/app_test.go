package tui

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const name = "md-postgres-500"

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, 2)
	vt.Seed(t, f, "orders-db", 3)
	return f
}

func newModel(b backend.Backend) *Model {
	return New(Options{Backend: b, Clock: vt.Now, Theme: views.DefaultTheme()})
}

// drive runs cmd and feeds what it yields back into m, as the program
// would, until nothing quick is left; commands that wait (ticks, a
// blocked connect) are abandoned. It returns the messages m was given.
func drive(m *Model, cmd tea.Cmd) []tea.Msg {
	var seen []tea.Msg
	for queue := []tea.Cmd{cmd}; len(queue) > 0; queue = queue[1:] {
		if queue[0] == nil {
			continue
		}
		msg, ok := runCmd(queue[0])
		if !ok {
			continue
		}
		if cmds := vt.Cmds(msg); cmds != nil {
			queue = append(queue, cmds...)
			continue
		}
		if _, ok := msg.(tea.QuitMsg); ok {
			seen = append(seen, msg)
			continue
		}
		seen = append(seen, msg)
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
	return seen
}

// runCmd runs c and returns its message, or false once c is blocked (on a
// timer, a channel, a select). Whether it is blocked is read from the
// goroutine's state, not guessed from how long it took: on a loaded
// machine a command that answers at once can wait tens of milliseconds
// to be scheduled.
func runCmd(c tea.Cmd) (tea.Msg, bool) {
	ids := make(chan string, 1)
	out := make(chan tea.Msg, 1)
	go func() {
		ids <- goroutineID()
		out <- c()
	}()
	id := <-ids
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case msg := <-out:
			return msg, true
		case <-time.After(10 * time.Millisecond):
		}
		if blocked(id) {
			select {
			case msg := <-out: // answered between the two looks
				return msg, true
			default:
				return nil, false
			}
		}
	}
	return nil, false // busy for 10 s: treat it as waiting; what the test expects of it fails loudly
}

// goroutineID is the calling goroutine's id, from its stack's header
// ("goroutine 42 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// blocked reports whether goroutine id waits for something outside it
// (a timer, a channel, a select, the network), from its state in the
// stack dump; running, runnable, a mutex or the GC are passing states.
func blocked(id string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	head := "goroutine " + id + " ["
	i := strings.Index(string(buf), head)
	if i < 0 {
		return false // gone: it has answered or is about to
	}
	state := string(buf[i+len(head):])
	state = state[:strings.IndexAny(state, ",]")]
	switch state {
	case "chan receive", "chan send", "select", "sleep", "IO wait",
		"chan receive (nil chan)", "chan send (nil chan)", "select (no cases)":
		return true
	}
	return false
}

func started(t *testing.T, b backend.Backend) *Model {
	t.Helper()
	m := newModel(b)
	m.Update(tea.WindowSizeMsg{Width: vt.Width, Height: vt.Height})
	drive(m, m.Init())
	return m
}

func press(m *Model, keys ...string) []tea.Msg {
	var seen []tea.Msg
	for _, k := range keys {
		_, cmd := m.Update(vt.Key(k))
		seen = append(seen, drive(m, cmd)...)
	}
	return seen
}

func typeLine(m *Model, s string) {
	for _, r := range s {
		press(m, string(r))
	}
}

func routes(m *Model) string {
	var rs []string
	for _, e := range m.stack {
		rs = append(rs, string(e.route)+":"+e.args.Cluster)
	}
	return strings.Join(rs, " ")
}

func quits(msgs []tea.Msg) bool {
	for _, msg := range msgs {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func TestEnterEscAndTab(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "enter")
	if got := routes(m); got != "clusters: status:md-postgres-500" {
		t.Fatalf("after enter: %s", got)
	}
	press(m, "t")
	press(m, "tab")
	if got := routes(m); got != "status:md-postgres-500 timeline:md-postgres-500 clusters:" {
		t.Fatalf("after tab: %s", got)
	}
	press(m, "esc", "esc", "esc", "esc")
	if got := routes(m); got != "status:md-postgres-500" {
		t.Fatalf("esc must keep the last pane: %s", got)
	}
}

func TestQuitUnlessCapturing(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "n")
	if top := m.top(); top.route != views.RouteCreate || !top.pane.Capturing() {
		t.Fatalf("n opened %s", routes(m))
	}
	if quits(press(m, "q")) {
		t.Fatal("q quit while the wizard had a field focused")
	}
	if !strings.Contains(m.View(), "q") {
		t.Fatal("q was not typed into the field")
	}
	if !quits(press(m, "ctrl+c")) {
		t.Fatal("ctrl+c did not quit")
	}
	m = started(t, seeded(t))
	if !quits(press(m, "q")) {
		t.Fatal("q did not quit on the clusters list")
	}
}

func TestPalette(t *testing.T) {
	m := started(t, seeded(t))
	press(m, ":")
	typeLine(m, "users orders-db")
	press(m, "enter")
	if got := routes(m); got != "clusters: users:orders-db" {
		t.Fatalf("after :users orders-db: %s", got)
	}
	press(m, ":")
	typeLine(m, "timeline")
	press(m, "enter")
	if got := m.top(); got.route != views.RouteTimeline || got.args.Cluster != "orders-db" {
		t.Fatalf(":timeline took the cluster from context? %s", routes(m))
	}
	press(m, ":")
	typeLine(m, "nope")
	press(m, "enter")
	if got := m.status.err; !strings.Contains(got, "unknown command :nope") {
		t.Fatalf(":nope: status %q", got)
	}
	for _, line := range []string{"checks", "logs", "metrics", "dbs", "status", "clusters"} {
		press(m, ":")
		typeLine(m, line)
		press(m, "enter")
		if top := m.top(); string(top.route) != line || m.status.err != "" {
			t.Fatalf(":%s opened %s (status %q)", line, routes(m), m.status.err)
		}
	}
	press(m, ":")
	typeLine(m, "quit")
	if !quits(press(m, "enter")) {
		t.Fatal(":quit did not quit")
	}
}

func TestPaletteNeedsACluster(t *testing.T) {
	m := started(t, fake.New())
	press(m, ":")
	typeLine(m, "status")
	press(m, "enter")
	if !strings.Contains(m.status.err, ":status needs a cluster") {
		t.Fatalf("status line %q", m.status.err)
	}
	press(m, "down")
	if m.status.err != "" {
		t.Fatal("the error outlived the next key")
	}
}

// TestHelpListsEveryEnabledBinding: the overlay is generated from the
// key maps, so it shows exactly the enabled bindings of the pane.
func TestHelpListsEveryEnabledBinding(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "enter", "?")
	view := m.View()
	enabled, disabled := 0, 0
	for _, g := range m.helpGroups() {
		for _, b := range g {
			h := b.Help()
			if !b.Enabled() {
				disabled++
				if strings.Contains(view, h.Desc) {
					t.Errorf("disabled binding %q shown", h.Desc)
				}
				continue
			}
			enabled++
			if !strings.Contains(view, h.Key) || !strings.Contains(view, h.Desc) {
				t.Errorf("help lacks %s %s", h.Key, h.Desc)
			}
		}
	}
	if enabled != 26 || disabled != 1 {
		t.Fatalf("%d enabled, %d disabled bindings; want 26 (with / filter, enter and o) and 1 (start machine on a running one)", enabled, disabled)
	}
	press(m, "esc")
	if m.helpOn || m.top().route != views.RouteStatus {
		t.Fatal("esc closed more than the overlay")
	}
}

func TestResultsGoToTheirPaneAndClosedPanesDropThem(t *testing.T) {
	f := seeded(t)
	m := started(t, f)
	press(m, "enter")
	status := m.top()
	id := status.id
	fetch := status.pane.Start() // a fetch in flight...
	press(m, "esc")              // ...when the pane is closed
	if cmd := m.route(fetch().(views.ResultMsg)); cmd != nil {
		t.Fatal("a closed pane's result was used")
	}
	press(m, "down", "enter")
	if m.top().id == id {
		t.Fatal("a closed pane came back")
	}
}

func TestPSQL(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "enter", "p")
	if !strings.Contains(m.status.err, "no way to start psql") {
		t.Fatalf("without a target: %q", m.status.err)
	}
	var asked views.PSQLMsg
	m.opts.PSQLTarget = func(p views.PSQLMsg) (*exec.Cmd, error) { asked = p; return nil, errors.New("no credentials") }
	press(m, "p")
	if asked != (views.PSQLMsg{Cluster: name}) || !strings.Contains(m.status.err, "psql on md-postgres-500: no credentials") {
		t.Fatalf("asked %+v, status %q", asked, m.status.err)
	}
	// P: the selected machine's own postgres.
	press(m, "P")
	if asked.Cluster != name || asked.Machine == "" || asked.Addr == "" ||
		!strings.Contains(m.status.err, "psql on "+asked.Machine+" of md-postgres-500: no credentials") {
		t.Fatalf("asked %+v, status %q", asked, m.status.err)
	}
	m.opts.PSQLTarget = func(views.PSQLMsg) (*exec.Cmd, error) { return exec.Command("true"), nil }
	_, cmd := m.Update(vt.Key("p"))
	_, cmd = m.Update(cmd())
	ready, ok := cmd().(psqlReadyMsg)
	if !ok {
		t.Fatal("no psql command")
	}
	if _, exec := m.Update(ready); exec == nil {
		t.Fatal("psql was not run")
	}
}

func TestCredentialsReachTheStore(t *testing.T) {
	var got string
	m := started(t, fake.New())
	m.opts.OnCredentials = func(c string, cr backend.Credentials) { got = c + " " + cr.Username }
	m.Update(views.CredentialsMsg{Cluster: name, Creds: backend.Credentials{Username: "postgres"}})
	if got != name+" postgres" {
		t.Fatalf("store got %q", got)
	}
}

func TestTasksInStatusLine(t *testing.T) {
	m := started(t, fake.New())
	m.Update(views.TaskStartMsg{ID: "a", Text: "Switching over…"})
	if !strings.Contains(m.status.view(80), "Switching over…") {
		t.Fatalf("status %q", m.status.view(80))
	}
	m.Update(views.TaskDoneMsg{ID: "a", Err: errors.New("switchover of x: no replica")})
	if got := m.status.view(80); !strings.Contains(got, "no replica") || strings.Contains(got, "Switching") {
		t.Fatalf("status %q", got)
	}
}

func TestNoColorPicksMono(t *testing.T) {
	if !PickTheme(func(string) string { return "1" }).Mono {
		t.Fatal("NO_COLOR=1 did not pick the mono theme")
	}
	if PickTheme(func(string) string { return "" }).Mono {
		t.Fatal("mono without NO_COLOR")
	}
	m := New(Options{Backend: fake.New(), Getenv: func(k string) string {
		if k == "NO_COLOR" {
			return "yes"
		}
		return ""
	}})
	if !m.theme.Mono {
		t.Fatal("New ignored NO_COLOR")
	}
}

func TestTitleKeepsTheCurrentPane(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "enter", "t", "c", "l")
	press(m, ":")
	typeLine(m, "users")
	press(m, "enter")
	title := strings.Split(m.View(), "\n")[0]
	if !strings.HasSuffix(title, "users md-postgres-500") || !strings.Contains(title, "… ") || lipgloss.Width(title) > 80 {
		t.Fatalf("title %q", title)
	}
}

func TestPaletteCompletions(t *testing.T) {
	for typed, want := range map[string]string{
		"": strings.Join(commandNames(), " "), "me": "metrics", ":c": "clusters checks create config",
		"status orders-db": strings.Join(commandNames(), " "), "zz": strings.Join(commandNames(), " "),
	} {
		if got := strings.Join(completions(typed), " "); got != want {
			t.Errorf("completions(%q) = %q, want %q", typed, got, want)
		}
	}
}

// TestConnectAfterFirstFrame: with Options.Connect the first frame says
// the platform is starting and no pane opens until Connect returns; then
// the clusters pane opens, or the body says why the platform is out of
// reach and the palette refuses to open panes.
func TestConnectAfterFirstFrame(t *testing.T) {
	release := make(chan struct{})
	f := seeded(t)
	m := New(Options{Connect: func() (backend.Backend, error) { <-release; return f, nil }, Clock: vt.Now, Theme: views.DefaultTheme()})
	m.Update(tea.WindowSizeMsg{Width: vt.Width, Height: vt.Height})
	init := m.Init()
	if v := m.View(); !strings.Contains(v, "Starting the local platform") {
		t.Fatalf("first frame:\n%s", v)
	}
	press(m, ":")
	typeLine(m, "clusters")
	press(m, "enter")
	if len(m.stack) != 0 || !strings.Contains(m.View(), "still starting") {
		t.Fatalf("a pane opened before the platform was reached: %q\n%s", routes(m), m.View())
	}
	close(release)
	drive(m, init)
	if got := routes(m); got != "clusters:" {
		t.Fatalf("after connecting: %q", got)
	}
	if v := m.View(); !strings.Contains(v, name) {
		t.Fatalf("clusters not listed after connecting:\n%s", v)
	}

	failing := New(Options{Connect: func() (backend.Backend, error) { return nil, errors.New("agent did not start") }, Clock: vt.Now, Theme: views.DefaultTheme()})
	failing.Update(tea.WindowSizeMsg{Width: vt.Width, Height: vt.Height})
	drive(failing, failing.Init())
	if v := failing.View(); len(failing.stack) != 0 || !strings.Contains(v, "cannot reach the platform: agent did not start") {
		t.Fatalf("after a failed connect (%q):\n%s", routes(failing), v)
	}
	if !quits(press(failing, "q")) {
		t.Fatal("q does not quit after a failed connect")
	}
}

// TestMouseSelectsAndFooterClickRuns: a click on a row (screen Y counts
// the title bar) selects it, the wheel scrolls, and a click on a footer
// key runs that key.
func TestMouseSelectsAndFooterClickRuns(t *testing.T) {
	m := started(t, seeded(t))
	click := func(x, y int) {
		_, cmd := m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
		drive(m, cmd)
	}
	// Title bar, "Clusters", blank, header, md-postgres-500, orders-db.
	click(5, 5)
	if f := m.top().pane.(views.ClusterFocus).FocusedCluster(); f != "orders-db" {
		t.Fatalf("click on orders-db focused %q", f)
	}
	_, cmd := m.Update(tea.MouseMsg{X: 5, Y: 5, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	drive(m, cmd)
	if f := m.top().pane.(views.ClusterFocus).FocusedCluster(); f != "md-postgres-500" {
		t.Fatalf("wheel up focused %q", f)
	}
	click(5, 5)
	footer := strings.Split(m.View(), "\n")[vt.Height-2]
	x := strings.Index(footer, "enter status")
	if x < 0 {
		t.Fatalf("footer %q", footer)
	}
	click(len([]rune(footer[:x]))+2, vt.Height-2)
	if got := routes(m); got != "clusters: status:orders-db" {
		t.Fatalf("footer click on enter: stack %s", got)
	}
	click(0, vt.Height-1) // the status line: nothing
	if got := routes(m); got != "clusters: status:orders-db" {
		t.Fatalf("a click on the status line did something: %s", got)
	}
}

// TestEscClearsTheFilterFirst: with a filter set, esc clears it and the
// pane stays; the next esc goes back.
func TestEscClearsTheFilterFirst(t *testing.T) {
	m := started(t, seeded(t))
	press(m, "enter", "/", "d", "a", "enter")
	if !strings.Contains(m.View(), "/da (esc clears)") {
		t.Fatalf("view:\n%s", m.View())
	}
	press(m, "esc")
	if got := routes(m); got != "clusters: status:md-postgres-500" || strings.Contains(m.View(), "/da") {
		t.Fatalf("first esc: stack %s\n%s", got, m.View())
	}
	press(m, "esc")
	if got := routes(m); got != "clusters:" {
		t.Fatalf("second esc: stack %s", got)
	}
}

// TestCtrlXCancelsTheRunningTask: the status line offers the cancel
// key while a task runs; ctrl+x ends the task's context and its end
// says it was cancelled.
func TestCtrlXCancelsTheRunningTask(t *testing.T) {
	m := started(t, fake.New())
	cmd := views.RunTask(views.Task{ID: "sw", Start: "Switching over…", Done: "done",
		Run: func(ctx context.Context) (any, error) { <-ctx.Done(); return nil, ctx.Err() }})
	msgs := vt.Cmds(cmd()) // tea.Sequence: start, then run
	m.Update(msgs[0]())
	if got := m.status.view(80); !strings.Contains(got, "ctrl+x cancels") {
		t.Fatalf("status %q", got)
	}
	m.Update(vt.Key("ctrl+x"))
	done := msgs[1]().(views.TaskDoneMsg) // returns only because ctrl+x cancelled it
	m.Update(done)
	if got := m.status.view(80); !strings.Contains(got, "cancelled") {
		t.Fatalf("status after cancel %q", got)
	}
}
