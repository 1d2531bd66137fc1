package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Bounds of the client's waits.
const (
	HandshakeTimeout = 5 * time.Second         // for the gateway to answer a handshake
	dnsTimeout       = 1500 * time.Millisecond // per DNS attempt
	connectTimeout   = 10 * time.Second        // per TCP connect
)

// Client errors.
var (
	ErrNoHandshake = errors.New("no WireGuard handshake")
	ErrNoSuchHost  = errors.New("no such host")
)

// Client is one peer's end of a tunnel, in this process: a WireGuard
// device on its own userspace network stack. One client serves every
// connection of a process.
type Client struct {
	cfg Config
	log *slog.Logger
	tun *stackDevice
	dev *device.Device

	checkMu sync.Mutex // one handshake check at a time
	checked time.Time  // when the last check succeeded
}

// Open brings the tunnel up and waits until the gateway answers the
// handshake (at most HandshakeTimeout).
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.Default()
	}
	tun, err := newStackDevice([]netip.Addr{cfg.Address.Addr()}, false)
	if err != nil {
		return nil, err
	}
	var bind conn.Bind = conn.NewDefaultBind()
	if ep := cfg.Endpoint.Addr(); ep.Is4() && ep.IsLoopback() {
		bind = newBind(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	c := &Client{cfg: cfg, log: log.With("component", "wireguard-client"), tun: tun}
	c.dev = device.NewDevice(tun, bind, deviceLogger(c.log))
	if err := c.dev.IpcSet(cfg.UAPI()); err != nil {
		c.Close()
		return nil, fmt.Errorf("configure wireguard: %w", err)
	}
	if err := c.dev.Up(); err != nil {
		c.Close()
		return nil, fmt.Errorf("wireguard up: %w", err)
	}
	if err := c.waitHandshake(ctx, time.Time{}); err != nil {
		c.Close()
		return nil, err
	}
	c.checked = time.Now()
	return c, nil
}

// Close takes the tunnel down; open connections through it end.
func (c *Client) Close() error {
	if c.dev != nil {
		c.dev.Close()
		return nil
	}
	return c.tun.Close()
}

// Config is the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// waitHandshake polls the device until a handshake newer than after
// completes. An initiation that got no answer is sent again with backoff
// (WireGuard itself retries only after 5 s, and the gateway drops
// initiations of one peer that come less than 20 ms apart).
func (c *Client) waitHandshake(ctx context.Context, after time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	backoff := 100 * time.Millisecond
	resend := time.Now().Add(backoff)
	for {
		text, err := c.dev.IpcGet()
		if err != nil {
			return fmt.Errorf("read wireguard device: %w", err)
		}
		for _, s := range parseStats(text) {
			if !s.LastHandshake.IsZero() && s.LastHandshake.After(after) {
				return nil
			}
		}
		if time.Now().After(resend) {
			// A fresh peer entry sends a fresh initiation.
			if err := c.dev.IpcSet(c.cfg.UAPI()); err != nil {
				return fmt.Errorf("reconfigure wireguard: %w", err)
			}
			backoff = min(2*backoff, time.Second)
			resend = time.Now().Add(backoff)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w with the gateway at %s within %s: the pgtui agent is not running there, or this peer was removed (see `pgtui wireguard list`)",
				ErrNoHandshake, c.cfg.Endpoint, HandshakeTimeout)
		case <-tick.C:
		}
	}
}

// check forces a fresh handshake: it tells a tunnel that merely lost a
// packet from one whose gateway is gone or no longer knows this peer.
func (c *Client) check(ctx context.Context) error {
	c.checkMu.Lock()
	defer c.checkMu.Unlock()
	if time.Since(c.checked) < time.Second {
		return nil
	}
	start := time.Now()
	if err := c.dev.IpcSet(c.cfg.UAPI()); err != nil {
		return fmt.Errorf("reconfigure wireguard: %w", err)
	}
	if err := c.waitHandshake(ctx, start); err != nil {
		return err
	}
	c.checked = time.Now()
	return nil
}

// Dial connects through the tunnel; host names are resolved by the
// tunnel's DNS, and every address it returns is tried in turn.
func (c *Client) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" && network != "tcp6" {
		return nil, fmt.Errorf("dial %s %s: only tcp goes through the tunnel", network, address)
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port %q", address, portStr)
	}
	addrs, err := c.hostAddrs(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	var last error
	for _, a := range addrs {
		conn, err := c.dialAddr(ctx, netip.AddrPortFrom(a, uint16(port)))
		if err == nil {
			return conn, nil
		}
		last = err
		if errors.Is(err, ErrNoHandshake) || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial %s: %w", address, last)
}

func (c *Client) hostAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return c.Resolve(ctx, host)
}

// dialAddr opens one TCP connection; a connect that times out is checked
// against the handshake, so a dead tunnel says so.
func (c *Client) dialAddr(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	fa := tcpip.FullAddress{NIC: nicID, Addr: tcpipAddr(ap.Addr()), Port: ap.Port()}
	conn, err := gonet.DialContextTCP(dctx, c.tun.stack, fa, ipv6.ProtocolNumber)
	if err == nil {
		return &tunnelConn{TCPConn: conn, local: conn.LocalAddr(), remote: conn.RemoteAddr()}, nil
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("connect to %s through the tunnel: %w", ap, ctx.Err())
	case dctx.Err() != nil:
		if herr := c.check(ctx); herr != nil {
			return nil, herr
		}
		return nil, fmt.Errorf("connect to %s through the tunnel: no answer within %s", ap, connectTimeout)
	}
	return nil, fmt.Errorf("connect to %s through the tunnel: %w (nothing listens there, or the machine is down)", ap, err)
}

// Forward accepts connections on ln and connects each to remote through
// the tunnel, until ctx ends. errs, if not nil, hears about connections
// that could not be forwarded.
func (c *Client) Forward(ctx context.Context, ln net.Listener, remote string, errs func(error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		local, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.forwardOne(ctx, local, remote, errs)
		}()
	}
}

func (c *Client) forwardOne(ctx context.Context, local net.Conn, remote string, errs func(error)) {
	rc, err := c.Dial(ctx, "tcp", remote)
	if err != nil {
		local.Close()
		if errs != nil {
			errs(err)
		}
		return
	}
	lh, ok := local.(halfCloser)
	if !ok {
		local.Close()
		rc.Close()
		return
	}
	s := &splice{a: lh, b: rc.(*tunnelConn)}
	stop := context.AfterFunc(ctx, s.close)
	defer stop()
	s.run()
}

// tunnelConn is a connection through the tunnel that keeps its addresses
// from when it was made: gonet's RemoteAddr returns nil once the endpoint
// is reset or closed, and pgx dereferences it when a cancelled query
// makes it send a cancel request (a nil-pointer panic in the caller).
type tunnelConn struct {
	*gonet.TCPConn
	local, remote net.Addr
}

// LocalAddr is the tunnel address the connection was made from.
func (c *tunnelConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the address the connection was made to.
func (c *tunnelConn) RemoteAddr() net.Addr { return c.remote }
