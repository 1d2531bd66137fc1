// Package testplatform runs the local platform in-process for tests and
// benchmarks: a real agent (embedded etcd, `pgtui node` machines, .internal
// DNS, WireGuard gateway) in a temporary PGTUI_HOME, and its client.
package testplatform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/agent"
	"github.com/pgtui/pgtui/backend/local"
)

// Platform is a running agent in a temp home.
type Platform struct {
	Home   string
	Client *local.Client
	stop   context.CancelFunc
	done   chan error
	claim  net.Listener // holds the agent's IPBase against other test processes
}

// claimPort, bound on 127.<IPBase>.0.1 (no machine's address, and below
// freeport's range), marks an IPBase as taken by a running test agent.
const claimPort = "9999"

// ClaimIPBase picks an IPBase no other test agent on this machine runs on
// and holds it until the listener is closed: agents of parallel test
// binaries sharing one would give machines the same addresses and ports.
func ClaimIPBase() (int, net.Listener, error) {
	var lastErr error
	for range 100 {
		base := 100 + rand.IntN(150)
		ln, err := net.Listen("tcp", net.JoinHostPort(fmt.Sprintf("127.%d.0.1", base), claimPort))
		if err == nil {
			return base, ln, nil
		}
		lastErr = err
	}
	return 0, nil, fmt.Errorf("no free IPBase for a test agent: %w", lastErr)
}

// Start runs an agent for the pgtui binary bin (see testcluster.BuildBinary)
// with machines on 127.<IPBase>.x.y, an IPBase no other test agent holds,
// and waits until it answers.
func Start(bin string, log *slog.Logger) (*Platform, error) {
	home, err := os.MkdirTemp("/tmp", "pgtp")
	if err != nil {
		return nil, fmt.Errorf("platform home: %w", err)
	}
	if err := os.Chmod(home, 0o755); err != nil { // postgres must reach the volumes
		os.RemoveAll(home)
		return nil, fmt.Errorf("platform home: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	base, claim, err := ClaimIPBase()
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Platform{Home: home, Client: local.New(home), stop: cancel, done: make(chan error, 1), claim: claim}
	cfg := agent.Config{Home: home, Bin: bin, IPBase: base, Log: log}
	go func() { p.done <- agent.Run(ctx, cfg) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		_, err := p.Client.Ping(pctx)
		pcancel()
		if err == nil {
			return p, nil
		}
		select {
		case err := <-p.done:
			p.stop = nil
			claim.Close()
			os.RemoveAll(home)
			return nil, fmt.Errorf("agent exited: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Close(true)
			return nil, errors.New("agent did not answer within 30s")
		}
	}
}

// Close stops the agent and every machine; remove deletes the home too.
func (p *Platform) Close(remove bool) error {
	var err error
	if p.stop != nil {
		p.stop()
		err = <-p.done
		p.stop = nil
	}
	if p.claim != nil {
		p.claim.Close() // after the agent stopped every machine
		p.claim = nil
	}
	if remove {
		os.RemoveAll(p.Home)
	}
	return err
}

// Create deploys a cluster in org personal and waits until it is deployed.
func (p *Platform) Create(ctx context.Context, name string, size int) (*backend.Credentials, error) {
	events, err := p.Client.CreateCluster(ctx, backend.CreateRequest{
		Name: name, Org: "personal", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: size})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	var creds *backend.Credentials
	var last backend.CreateEvent
	for ev := range events {
		last = ev
		if ev.Credentials != nil {
			creds = ev.Credentials
		}
		if ev.Error != "" {
			return nil, fmt.Errorf("create %s: %s", name, ev.Error)
		}
	}
	if last.Step != "deployed" || creds == nil {
		return nil, fmt.Errorf("create %s ended with %+v", name, last)
	}
	return creds, nil
}
