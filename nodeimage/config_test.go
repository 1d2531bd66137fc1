package nodeimage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/nodeimage/keeper"
)

func TestValidatePorts(t *testing.T) {
	base := Config{Name: "n1", Cluster: "c", DataDir: "/d", EtcdEndpoints: []string{"http://127.0.0.1:2379"},
		Secrets:   keeper.Secrets{SuperuserPassword: "a", AdminPassword: "b", ReplPassword: "c"},
		ProxyPort: 5432, PGPort: 5433, HealthPort: 5500, MetricsPort: 9187}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"pg on the proxy port", func(c *Config) { c.PGPort = 5432 }, "--proxy-port and --pg-port are both 5432"},
		{"metrics on the health port", func(c *Config) { c.MetricsPort = 5500 }, "--health-port and --metrics-port are both 5500"},
		{"zero", func(c *Config) { c.HealthPort = 0 }, "--health-port 0 is not a TCP port"},
		{"too big", func(c *Config) { c.MetricsPort = 70000 }, "--metrics-port 70000 is not a TCP port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidateEtcdTLS(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, cert, key := file("ca.crt"), file("client.crt"), file("client.key")
	all := etcdtls.Files{CACert: ca, Cert: cert, Key: key}
	https := []string{"https://10.1.1.2:2379", "https://10.1.1.3:2379"}
	base := Config{Name: "n1", Cluster: "c", DataDir: "/d",
		Secrets:   keeper.Secrets{SuperuserPassword: "a", AdminPassword: "b", ReplPassword: "c"},
		ProxyPort: 5432, PGPort: 5433, HealthPort: 5500, MetricsPort: 9187}
	for _, tc := range []struct {
		name      string
		endpoints []string
		files     etcdtls.Files
		want      string // "" = valid
	}{
		{"plain", []string{"http://127.0.0.1:2379"}, etcdtls.Files{}, ""},
		{"all three", https, all, ""},
		{"no key", https, etcdtls.Files{CACert: ca, Cert: cert}, "--etcd-key is missing"},
		{"no cert", https, etcdtls.Files{CACert: ca, Key: key}, "--etcd-cert is missing"},
		{"ca only", https, etcdtls.Files{CACert: ca}, "--etcd-cert is missing"},
		{"no ca", https, etcdtls.Files{Cert: cert, Key: key}, "--etcd-cacert is missing"},
		{"unreadable ca", https, etcdtls.Files{CACert: filepath.Join(dir, "nope.crt"), Cert: cert, Key: key}, "--etcd-cacert: open"},
		{"unreadable key", https, etcdtls.Files{CACert: ca, Cert: cert, Key: filepath.Join(dir, "nope.key")}, "--etcd-key: open"},
		{"tls to http endpoint", []string{"https://10.1.1.2:2379", "http://10.1.1.3:2379"}, all, "endpoint http://10.1.1.3:2379 is not https"},
		{"https without tls", https, etcdtls.Files{}, "is https: give --etcd-cacert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.EtcdEndpoints, c.EtcdTLS = tc.endpoints, tc.files
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
