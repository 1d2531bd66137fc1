// Package local is the Backend of the local platform: a client of the
// agent's HTTP/JSON API on its unix socket. Ensure starts the agent in the
// background when it is not running, as flyctl does with its agent.
package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
)

// Client talks to one agent.
type Client struct {
	home string
	http *http.Client
}

var _ backend.Backend = (*Client)(nil)

// Home is $PGTUI_HOME, else /var/lib/pgtui as root (postgres, running as
// the postgres user, must reach the volumes) or ~/.local/share/pgtui.
func Home() string {
	if h := os.Getenv("PGTUI_HOME"); h != "" {
		return h
	}
	if os.Geteuid() == 0 {
		return "/var/lib/pgtui"
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "share", "pgtui")
	}
	return ".pgtui"
}

// New returns a client for the agent of home, without starting it.
func New(home string) *Client {
	sock := api.SocketPath(home)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	return &Client{home: home, http: &http.Client{Transport: tr}}
}

// Ping reports whether the agent answers.
func (c *Client) Ping(ctx context.Context) (*api.AgentStatus, error) {
	var st api.AgentStatus
	if err := c.do(ctx, "GET", "/v1/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Ensure returns a client, starting the agent in the background first
// when none answers.
func Ensure(ctx context.Context, home string) (*Client, error) {
	c := New(home)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := c.Ping(pctx)
	cancel()
	if err == nil {
		return c, nil
	}
	if err := checkSocketOwner(home); err != nil {
		return nil, err
	}
	if err := StartAgent(home); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err = c.Ping(pctx)
		cancel()
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("the agent did not start within 30s (see %s): %w", filepath.Join(home, "agent.log"), err)
}

// checkSocketOwner refuses a socket that belongs to another user.
func checkSocketOwner(home string) error {
	fi, err := os.Stat(api.SocketPath(home))
	if err != nil {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("agent socket %s belongs to uid %d: set PGTUI_HOME to a directory of your own", api.SocketPath(home), st.Uid)
	}
	return nil
}

// StartAgent launches `pgtui agent run` detached, logging to agent.log.
func StartAgent(home string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find pgtui executable: %w", err)
	}
	if err := os.MkdirAll(home, 0o711); err != nil {
		return fmt.Errorf("create %s: %w", home, err)
	}
	logf, err := os.OpenFile(filepath.Join(home, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("agent log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, "agent", "run")
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlive this command
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	return cmd.Process.Release()
}

// Stop asks the agent to stop and waits until its socket is gone.
func (c *Client) Stop(ctx context.Context) error {
	if err := c.do(ctx, "POST", "/v1/shutdown", nil, nil); err != nil {
		return err
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := c.Ping(pctx)
		cancel()
		if err != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("agent still running: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// do sends one request and decodes the JSON reply or error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("agent reply to %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent at %s: %w", api.SocketPath(c.home), err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var eb api.ErrorBody
		if json.NewDecoder(resp.Body).Decode(&eb) == nil && eb.Error != "" {
			return nil, api.FromReply(resp.StatusCode, eb)
		}
		return nil, fmt.Errorf("agent: %s %s: %s", method, path, resp.Status)
	}
	return resp, nil
}

func esc(s string) string { return url.PathEscape(s) }

// CreateCluster streams the deployment's events.
func (c *Client) CreateCluster(ctx context.Context, req backend.CreateRequest) (<-chan backend.CreateEvent, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, "POST", "/v1/clusters", req)
	if err != nil {
		return nil, err
	}
	out := make(chan backend.CreateEvent)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev backend.CreateEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = backend.CreateEvent{Step: "failed", Error: fmt.Sprintf("bad event from agent: %v", err), Done: true}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
