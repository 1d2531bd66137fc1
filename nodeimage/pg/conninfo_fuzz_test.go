package pg

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// FuzzConnInfo: any value survives quoting: libpq's parser (pgx's, the
// same grammar) reads back exactly what was written.
func FuzzConnInfo(f *testing.F) {
	f.Add("127.0.0.1", "repluser", `pa'ss\word`, "app name")
	f.Add("h", "u", "", "")
	f.Add("h", "u", "x' host=evil", "a=b")
	f.Fuzz(func(t *testing.T, host, user, password, app string) {
		for _, s := range []string{host, user, password, app} {
			for _, r := range s {
				if r == 0 {
					return // libpq strings cannot hold NUL
				}
			}
		}
		if host == "" || user == "" {
			return
		}
		ci := ConnInfo{Host: host, Port: 5433, User: user, Password: password, AppName: app}
		cfg, err := pgx.ParseConfig(ci.String())
		if err != nil {
			return // e.g. a host pgx cannot resolve syntactically; never a different value
		}
		if cfg.User != user || cfg.Password != password || (app != "" && cfg.RuntimeParams["application_name"] != app) {
			t.Fatalf("round trip of %+v gave user=%q password=%q app=%q", ci, cfg.User, cfg.Password, cfg.RuntimeParams["application_name"])
		}
	})
}
