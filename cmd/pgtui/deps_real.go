package main

import (
	"context"
	"os"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/local"
)

// realDeps wires the terminal and the local platform. The backend is made
// on first use, so commands that fail validation (or need no backend)
// never start the agent.
func realDeps(ctx context.Context) *deps {
	var (
		once sync.Once
		b    backend.Backend
		err  error
	)
	return &deps{
		Backend: func() (backend.Backend, error) {
			once.Do(func() {
				var c *local.Client
				if c, err = local.Ensure(ctx, local.Home()); err == nil {
					b = c
				}
			})
			return b, err
		},
		Out: os.Stdout,
		Err: os.Stderr,
		In:  os.Stdin,
		// Prompts are written to stderr and read from stdin: both must be
		// a terminal for a person to see and answer them.
		IsTTY: isatty.IsTerminal(os.Stdin.Fd()) && isatty.IsTerminal(os.Stderr.Fd()),
	}
}
