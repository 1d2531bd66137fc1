package external

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/etcdtls"
)

// Names of the credentials in a credentials file: the format of `pgtui
// node --secrets-file`, KEY=VALUE lines.
const (
	EnvAdmin     = "PGTUI_ADMIN_PASSWORD"
	EnvSuperuser = "PGTUI_SUPERUSER_PASSWORD"
)

// Entry is a registered cluster: where its store is and how to reach it.
type Entry struct {
	Name      string        `json:"name"`
	Endpoints []string      `json:"etcd_endpoints"`
	TLS       etcdtls.Files `json:"etcd_tls,omitzero"`
	Added     time.Time     `json:"added"`
}

// Credentials of a registered cluster, kept 0600 and never shown.
type Credentials struct {
	AdminPassword     string
	SuperuserPassword string // optional: `postgres connect` as postgres
}

// ParseCredentials reads KEY=VALUE lines (# comments, blank lines); the
// admin password is required.
func ParseCredentials(b []byte) (Credentials, error) {
	var c Credentials
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case EnvAdmin:
			c.AdminPassword = strings.TrimSpace(v)
		case EnvSuperuser:
			c.SuperuserPassword = strings.TrimSpace(v)
		}
	}
	if c.AdminPassword == "" {
		return Credentials{}, fmt.Errorf("credentials: %s is missing (KEY=VALUE lines, as in the nodes' secrets file)", EnvAdmin)
	}
	return c, nil
}

func (c Credentials) encode() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%s\n", EnvAdmin, c.AdminPassword)
	if c.SuperuserPassword != "" {
		fmt.Fprintf(&b, "%s=%s\n", EnvSuperuser, c.SuperuserPassword)
	}
	return []byte(b.String())
}

// Registry keeps registered clusters under $PGTUI_HOME/external/<name>/:
// cluster.json, credentials.env and attachments.json, all 0600.
type Registry struct {
	dir string
}

// NewRegistry is the registry of a pgtui home.
func NewRegistry(home string) *Registry { return &Registry{dir: filepath.Join(home, "external")} }

func (r *Registry) clusterDir(name string) string { return filepath.Join(r.dir, name) }

// Names lists the registered clusters, sorted.
func (r *Registry) Names() ([]string, error) {
	des, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("external clusters: %w", err)
	}
	var out []string
	for _, de := range des {
		if de.IsDir() && backend.ValidateName(de.Name()) == nil {
			if _, err := os.Stat(filepath.Join(r.dir, de.Name(), "cluster.json")); err == nil {
				out = append(out, de.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool {
	if backend.ValidateName(name) != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(r.clusterDir(name), "cluster.json"))
	return err == nil
}

// NotRegisteredError names a cluster that is not registered.
type NotRegisteredError struct{ Name string }

func (e NotRegisteredError) Error() string {
	return fmt.Sprintf("no external cluster %q is registered: see `pgtui clusters list`", e.Name)
}

// Get reads a registered cluster's entry.
func (r *Registry) Get(name string) (*Entry, error) {
	if !r.Has(name) {
		return nil, NotRegisteredError{name}
	}
	b, err := os.ReadFile(filepath.Join(r.clusterDir(name), "cluster.json"))
	if err != nil {
		return nil, fmt.Errorf("external cluster %s: %w", name, err)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("external cluster %s: %s: %w", name, filepath.Join(r.clusterDir(name), "cluster.json"), err)
	}
	return &e, nil
}

// Credentials reads a registered cluster's credentials.
func (r *Registry) Credentials(name string) (Credentials, error) {
	b, err := os.ReadFile(filepath.Join(r.clusterDir(name), "credentials.env"))
	if err != nil {
		return Credentials{}, fmt.Errorf("external cluster %s credentials: %w", name, err)
	}
	return ParseCredentials(b)
}

// save writes a new cluster's files into a fresh directory and renames
// it into place, so a failure leaves nothing half made.
func (r *Registry) save(e Entry, c Credentials) error {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", r.dir, err)
	}
	tmp, err := os.MkdirTemp(r.dir, ".add-"+e.Name+"-")
	if err != nil {
		return fmt.Errorf("register %s: %w", e.Name, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"credentials.env", c.encode()}, {"cluster.json", append(b, '\n')}, {"attachments.json", []byte("{}\n")}} {
		if err := writeFile0600(filepath.Join(tmp, f.name), f.data); err != nil {
			return fmt.Errorf("register %s: %w", e.Name, err)
		}
	}
	if err := os.Rename(tmp, r.clusterDir(e.Name)); err != nil {
		return fmt.Errorf("register %s: %w", e.Name, err)
	}
	ok = true
	return nil
}

// Remove forgets a registered cluster; the cluster itself is untouched.
func (r *Registry) Remove(name string) error {
	if !r.Has(name) {
		return NotRegisteredError{name}
	}
	// Rename first, so a half-removed directory is never taken for a
	// registered cluster.
	gone := filepath.Join(r.dir, ".remove-"+name+"-"+randHex(4))
	if err := os.Rename(r.clusterDir(name), gone); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// writeFile0600 writes data through a temporary file and a rename.
func writeFile0600(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // WriteFile keeps an old file's mode
		return err
	}
	return os.Rename(tmp, path)
}

// validEndpoints checks etcd URLs: http or https with a host.
func validEndpoints(eps []string) error {
	if len(eps) == 0 {
		return errors.New("--etcd-endpoints is required: the etcd cluster the nodes use, e.g. https://10.0.0.1:2379")
	}
	for _, ep := range eps {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("etcd endpoint %q is not valid: use http(s)://HOST:PORT", ep)
		}
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
