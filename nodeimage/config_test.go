package nodeimage

import (
	"strings"
	"testing"

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
