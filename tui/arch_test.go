package tui

import (
	"os/exec"
	"strings"
	"testing"
)

// TestViewsImportNoShell keeps the layering of DESIGN.md: panes reach
// the platform only through backend.Backend and never import the shell,
// the tunnel or the commands.
func TestViewsImportNoShell(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/pgtui/pgtui/views/...").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/pgtui/tui", "/pgtui/tunnel", "/pgtui/cmd/", "/pgtui/nodeimage", "/backend/local", "/backend/agent"} {
			if strings.Contains(dep, "github.com/pgtui/pgtui") && strings.Contains(dep, banned) {
				t.Errorf("views depend on %s", dep)
			}
		}
	}
}
