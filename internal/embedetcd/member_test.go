package embedetcd

import (
	"net/url"
	"strings"
	"testing"
)

func TestMemberValidate(t *testing.T) {
	u := func(s string) url.URL { v, _ := url.Parse(s); return *v }
	base := Member{Name: "h1", Dir: "/d", Client: u("https://10.0.0.11:2379"), Peer: u("https://10.0.0.11:2380"),
		Cluster: "h1=https://10.0.0.11:2380,h2=https://10.0.0.12:2380", CertFile: "m.pem", KeyFile: "m-key.pem", CAFile: "ca.pem"}
	for _, tc := range []struct {
		name string
		edit func(*Member)
		want string
	}{
		{"valid", func(*Member) {}, ""},
		{"no name", func(m *Member) { m.Name = "" }, "member name is required"},
		{"no dir", func(m *Member) { m.Dir = "" }, "data directory is required"},
		{"plain client", func(m *Member) { m.Client = u("http://10.0.0.11:2379") }, "must be https"},
		{"plain peer", func(m *Member) { m.Peer = u("http://10.0.0.11:2380") }, "must be https"},
		{"no key", func(m *Member) { m.KeyFile = "" }, "--cert, --key and --cacert are required"},
		{"no ca", func(m *Member) { m.CAFile = "" }, "--cert, --key and --cacert are required"},
		{"not in cluster", func(m *Member) { m.Cluster = "h2=https://10.0.0.12:2380" }, "--initial-cluster must name this member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			tc.edit(&m)
			err := m.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
