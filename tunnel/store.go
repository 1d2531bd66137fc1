package tunnel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// StoreFile is the gateway's state under the agent's home, mode 0600: its
// private key, UDP port, the orgs' networks and the peers.
const StoreFile = "wireguard.json"

// Peer is one WireGuard peer of the gateway. Its private key is handed
// out once, in the config that creates it, and never stored here.
type Peer struct {
	Name      string     `json:"name"`
	Org       string     `json:"org"`
	Region    string     `json:"region"`
	PublicKey string     `json:"public_key"` // base64, as wg-quick writes it
	Address   netip.Addr `json:"address"`
	Created   time.Time  `json:"created"`
}

// gatewayState is wireguard.json.
type gatewayState struct {
	PrivateKey string            `json:"private_key"`
	Port       int               `json:"port"`
	Networks   map[string]string `json:"networks"`  // org -> /48
	NextPeer   map[string]uint64 `json:"next_peer"` // org -> next peer number
	Peers      []Peer            `json:"peers"`
}

// loadState reads the state, or makes a new one (key, free port) and
// saves it, so the gateway keeps its identity across restarts.
func loadState(path string, listen netip.Addr) (*gatewayState, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		st := &gatewayState{}
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("wireguard state %s is corrupted (%v): move it away to start a new network (every peer must then be created again)", path, err)
		}
		if _, err := wgtypes.ParseKey(st.PrivateKey); err != nil {
			return nil, fmt.Errorf("wireguard state %s: private key: %w", path, err)
		}
		if st.Networks == nil {
			st.Networks = map[string]string{}
		}
		if st.NextPeer == nil {
			st.NextPeer = map[string]uint64{}
		}
		return st, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read wireguard state: %w", err)
	}
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("wireguard key: %w", err)
	}
	port, err := freeUDPPort(listen)
	if err != nil {
		return nil, err
	}
	st := &gatewayState{PrivateKey: key.String(), Port: port, Networks: map[string]string{}, NextPeer: map[string]uint64{}}
	return st, st.save(path)
}

// freeUDPPort picks the gateway's port once (it is kept in the state, so
// configs stay valid), below the ephemeral range where no client's source
// port can take it between restarts.
func freeUDPPort(addr netip.Addr) (int, error) {
	ps, err := freeport.UDP(addr.String(), 1)
	if err != nil {
		return 0, fmt.Errorf("wireguard port: %w", err)
	}
	return ps[0], nil
}

func (st *gatewayState) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode wireguard state: %w", err)
	}
	return WriteFileAtomic(path, b, 0o600)
}

func (st *gatewayState) peer(name string) (int, *Peer) {
	for i := range st.Peers {
		if st.Peers[i].Name == name {
			return i, &st.Peers[i]
		}
	}
	return -1, nil
}

// WriteFileAtomic writes a file through a temp file, fsync and rename,
// with mode set before any byte is written.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
