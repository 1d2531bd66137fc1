package views

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
)

// ErrMsg puts an error in the status line.
type ErrMsg struct{ Err error }

// FlashMsg puts a notice in the status line for a few seconds.
type FlashMsg struct{ Text string }

// OpenPaneMsg asks the shell to show a pane (reusing an open one with the
// same route and args).
type OpenPaneMsg struct {
	Route Route
	Args  Args
}

// BackMsg asks the shell to close the top pane.
type BackMsg struct{}

// PSQLMsg asks the shell to suspend the cockpit and run psql on a
// cluster's leader, or with Machine set on that machine's own postgres
// (:5433 at Addr, its private address), bypassing the proxy.
type PSQLMsg struct{ Cluster, Machine, Addr string }

// CredentialsMsg tells the shell a cluster's credentials, once, as the
// deployment reports them; the shell keeps them only to run psql.
type CredentialsMsg struct {
	Cluster string
	Creds   backend.Credentials
}

// ResultMsg carries an asynchronous result back to the pane that asked
// for it. Seq lets the pane drop results older than its latest request.
type ResultMsg struct {
	PaneID int
	Seq    int
	Msg    tea.Msg
}

// Err returns a command reporting err in the status line.
func Err(err error) tea.Cmd {
	return func() tea.Msg { return ErrMsg{Err: err} }
}

// Flash returns a command showing text in the status line.
func Flash(text string) tea.Cmd {
	return func() tea.Msg { return FlashMsg{Text: text} }
}

// Open returns a command that opens a pane.
func Open(route Route, args Args) tea.Cmd {
	return func() tea.Msg { return OpenPaneMsg{Route: route, Args: args} }
}

// Back returns a command that closes the top pane.
func Back() tea.Msg { return BackMsg{} }

// Stamp wraps fetch so its result is addressed to pane id with seq.
func Stamp(id, seq int, fetch func() tea.Msg) tea.Cmd {
	return func() tea.Msg { return ResultMsg{PaneID: id, Seq: seq, Msg: fetch()} }
}

// FetchTimeout bounds one read from the backend.
const FetchTimeout = 15 * time.Second

// Call runs fn off the update loop with a FetchTimeout context: the body
// of every read command in a pane's cmds.go.
func Call(fn func(ctx context.Context) tea.Msg) func() tea.Msg {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), FetchTimeout)
		defer cancel()
		return fn(ctx)
	}
}
