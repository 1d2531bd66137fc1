package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/mattn/go-isatty"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/pgtui/pgtui/backend/local"
	"github.com/pgtui/pgtui/backend/router"
)

// realDeps wires the terminal and the platforms: a router that sends
// registered external clusters to backend/external and the rest to the
// local platform. The local backend is made on first use, so commands
// that fail validation (or need no agent, such as operating an external
// cluster) never start the agent.
func realDeps(ctx context.Context) *deps {
	var (
		once sync.Once
		lb   backend.Backend
		err  error
	)
	home := local.Home()
	localBackend := func() (backend.Backend, error) {
		once.Do(func() {
			var c *local.Client
			if c, err = local.Ensure(ctx, home); err == nil {
				lb = c
			}
		})
		return lb, err
	}
	ext := external.New(home, func() (external.Apps, error) { return localBackend() })
	rt := router.New(localBackend, ext)
	return &deps{
		Backend:  func() (backend.Backend, error) { return rt, nil },
		Registry: ext.Registry(),
		LocalCluster: func(ctx context.Context, name string) bool {
			c := local.New(home)
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := c.Ping(pctx); err != nil {
				return false // no agent running: nothing of it to shadow now
			}
			_, err := c.Status(pctx, name)
			return err == nil
		},
		ReadSecret: func() (string, error) {
			b, err := term.ReadPassword(os.Stdin.Fd())
			return string(b), err
		},
		Out: os.Stdout,
		Err: os.Stderr,
		In:  os.Stdin,
		// Prompts are written to stderr and read from stdin: both must be
		// a terminal for a person to see and answer them.
		IsTTY: isatty.IsTerminal(os.Stdin.Fd()) && isatty.IsTerminal(os.Stderr.Fd()),
	}
}
