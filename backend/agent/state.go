package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// stateVersion is bumped on incompatible changes of State.
const stateVersion = 1

// State is everything the agent must remember across restarts. It is
// written atomically after every change.
type State struct {
	Version  int                 `json:"version"`
	Clusters map[string]*Cluster `json:"clusters"`
	Apps     map[string]*App     `json:"apps"`
}

// Cluster is a postgres app and its machines.
type Cluster struct {
	Name     string     `json:"name"`
	Org      string     `json:"org"`
	Region   string     `json:"region"`
	VMSize   string     `json:"vm_size"`
	VolumeGB int        `json:"volume_gb"`
	Subnet   int        `json:"subnet"` // machines are 127.<base>.<Subnet>.<n>
	Machines []*Machine `json:"machines"`
	Created  time.Time  `json:"created"`
	Deployed bool       `json:"deployed"`
	// Backup: the cluster's backup settings (nil: none, a cluster made
	// before backups existed).
	Backup *Backup `json:"backup,omitempty"`
}

// Machine is one `pgtui node` process with its volume.
type Machine struct {
	ID       string          `json:"id"`
	Region   string          `json:"region"`
	VMSize   string          `json:"vm_size"`
	IP       string          `json:"ip"`
	Volume   string          `json:"volume"`
	Desired  string          `json:"desired"` // run, stop
	Restarts int             `json:"restarts"`
	Created  time.Time       `json:"created"`
	Events   []backend.Event `json:"events"`
}

// App is a user app: a holder of secrets, maybe attached to a cluster.
type App struct {
	Name        string                 `json:"name"`
	Org         string                 `json:"org"`
	Created     time.Time              `json:"created"`
	Secrets     map[string]AppSecret   `json:"secrets"`
	Attachments map[string]*Attachment `json:"attachments"` // by cluster
}

// AppSecret is a secret value with its creation time.
type AppSecret struct {
	Value   string    `json:"value"`
	Created time.Time `json:"created"`
}

// Attachment records what attach created, so detach can undo it.
type Attachment struct {
	Cluster  string `json:"cluster"`
	Database string `json:"database"`
	User     string `json:"user"`
	Variable string `json:"variable"`
}

const maxEvents = 50

func (m *Machine) event(typ, msg string) {
	m.Events = append(m.Events, backend.Event{Time: time.Now().UTC(), Type: typ, Message: msg})
	if len(m.Events) > maxEvents {
		m.Events = m.Events[len(m.Events)-maxEvents:]
	}
}

func newState() *State {
	return &State{Version: stateVersion, Clusters: map[string]*Cluster{}, Apps: map[string]*App{}}
}

// loadState reads the state file; a missing file is an empty state, a
// corrupted one is an error that says where it is and what to do.
func loadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agent state: %w", err)
	}
	return decodeState(b, path)
}

func decodeState(b []byte, path string) (*State, error) {
	s := newState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("agent state %s is corrupted (%v): restore it from %s.bak or move it away to start empty", path, err, path)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("agent state %s has version %d, this pgtui reads %d", path, s.Version, stateVersion)
	}
	if s.Clusters == nil {
		s.Clusters = map[string]*Cluster{}
	}
	if s.Apps == nil {
		s.Apps = map[string]*App{}
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("agent state %s is corrupted (%v): restore it from %s.bak or move it away to start empty", path, err, path)
	}
	return s, nil
}

// check rejects entries that would make the agent fail later.
func (s *State) check() error {
	for name, c := range s.Clusters {
		if c == nil || c.Name != name {
			return fmt.Errorf("cluster %q is empty or misnamed", name)
		}
		for _, m := range c.Machines {
			if m == nil || m.ID == "" || m.IP == "" || m.Volume == "" {
				return fmt.Errorf("cluster %q has an incomplete machine", name)
			}
		}
	}
	for name, a := range s.Apps {
		if a == nil {
			return fmt.Errorf("app %q is empty", name)
		}
		if a.Secrets == nil {
			a.Secrets = map[string]AppSecret{}
		}
		if a.Attachments == nil {
			a.Attachments = map[string]*Attachment{}
		}
		for k, att := range a.Attachments {
			if att == nil {
				return fmt.Errorf("app %q has an empty attachment %q", name, k)
			}
		}
	}
	return nil
}

// save writes the state atomically (temp file, fsync, rename), mode 0600,
// keeping the previous version as .bak.
func (s *State) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode agent state: %w", err)
	}
	return writeAtomic(path, b, 0o600, true)
}

func writeAtomic(path string, data []byte, mode os.FileMode, backup bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if backup {
		if old, err := os.ReadFile(path); err == nil {
			_ = os.WriteFile(path+".bak", old, mode)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
