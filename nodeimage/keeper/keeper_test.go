package keeper

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgtui/pgtui/nodeimage/pg"
)

// A restarted node holds off from leading only when its data was a
// primary's: a restarted replica may be promoted at once (a switchover
// to it right after its restart waited 3 s otherwise).
func TestRestartHold(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		hold  bool
	}{
		{"no data", nil, false},
		{"primary data", []string{"PG_VERSION"}, true},
		{"replica data", []string{"PG_VERSION", "standby.signal"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			k := New(Config{Name: "n1", PG: pg.New(pg.Config{DataDir: dir}), Log: slog.New(slog.DiscardHandler)})
			if got := !k.stepDownAt.IsZero(); got != tc.hold {
				t.Errorf("hold = %v, want %v", got, tc.hold)
			}
		})
	}
}
