package wireguard

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// gw stands in for the gateway (the boundary under the pane; the real
// one is tested in tunnel and cmd/pgtui).
type gw struct {
	mu    sync.Mutex
	peers []api.PeerStatus
}

func (g *gw) ListPeers(context.Context) ([]api.PeerStatus, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]api.PeerStatus(nil), g.peers...), nil
}

func (g *gw) CreatePeer(_ context.Context, req api.PeerRequest) (*api.NewPeer, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := api.Peer{Name: req.Name, Org: "personal", Region: "iad", Address: netip.MustParseAddr("fdaa:0:1::3")}
	g.peers = append(g.peers, api.PeerStatus{Peer: p})
	return &api.NewPeer{Peer: p, Config: "[Interface]\nPrivateKey = c2VjcmV0\nAddress = fdaa:0:1::3/120\n"}, nil
}

func (g *gw) RemovePeer(_ context.Context, name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, p := range g.peers {
		if p.Name == name {
			g.peers = append(g.peers[:i], g.peers[i+1:]...)
			return nil
		}
	}
	return &api.Error{Code: api.CodeNotFound, Message: "no such wireguard peer"}
}

func common(g *gw) views.Common {
	c := vt.Common(fake.New())
	c.WireGuard = func() (api.WireGuard, error) { return g, nil }
	return c
}

func seeded() *gw {
	return &gw{peers: []api.PeerStatus{{
		Peer:          api.Peer{Name: "laptop", Org: "personal", Region: "iad", Address: netip.MustParseAddr("fdaa:0:1::2")},
		LastHandshake: vt.Now().Add(-42 * time.Second), RxBytes: 15_300, TxBytes: 2_100_000}}}
}

// TestPeersGolden: handshake age and traffic per peer.
func TestPeersGolden(t *testing.T) {
	tm := vt.Run(t, New(common(seeded()), views.Args{}))
	vt.WaitFor(t, tm, "laptop", "42s ago")
	vt.Golden(t, tm)
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(vt.Key(string(r)))
	}
}

// TestCreateShowsTheConfigOnceThenRemove: the new peer's configuration
// shows until the next key; remove asks first.
func TestCreateShowsTheConfigOnceThenRemove(t *testing.T) {
	g := seeded()
	m := New(common(g), views.Args{})
	m.SetSize(vt.Width, vt.Height)
	m.Update(m.Start()())
	submit := func(name string) tea.Cmd {
		m.Update(vt.Key("n"))
		typeText(m, name)
		var run tea.Cmd
		for i := 0; i < 3 && run == nil; i++ { // name, org, region
			_, run = m.Update(vt.Key("enter"))
		}
		return run
	}
	if run := submit("Bad Name"); run != nil || !m.Capturing() {
		t.Fatal("an invalid peer name was sent or closed the prompt")
	}
	m.Update(vt.Key("esc"))
	run := submit("ci")
	done := vt.Task(t, run)
	if done.Err != nil {
		t.Fatal(done.Err)
	}
	m.Update(done.Result)
	if v := m.View(); !strings.Contains(v, "PrivateKey = c2VjcmV0") || !strings.Contains(v, "not shown again") {
		t.Fatalf("after create:\n%s", v)
	}
	m.Update(m.Refresh()())
	m.Update(vt.Key("down"))
	if strings.Contains(m.View(), "PrivateKey") {
		t.Fatal("the configuration stayed after the next key")
	}
	m.Update(vt.Key("D"))
	if !strings.Contains(m.View(), "Remove WireGuard peer ci?") {
		t.Fatalf("view:\n%s", m.View())
	}
	_, run = m.Update(vt.Key("y"))
	if done := vt.Task(t, run); done.Err != nil || len(g.peers) != 1 {
		t.Fatalf("remove: %v, peers %v", done.Err, g.peers)
	}
}

// TestNoGatewaySaysSo: a cockpit without a gateway reports it.
func TestNoGatewaySaysSo(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{})
	_, cmd := m.Update(m.Start()())
	cmds := vt.Cmds(cmd()) // the next tick, then the error
	if e, ok := cmds[len(cmds)-1]().(views.ErrMsg); !ok || !strings.Contains(e.Err.Error(), "no WireGuard gateway") {
		t.Fatalf("got %#v", e)
	}
}
