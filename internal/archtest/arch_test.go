package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pgtui/pgtui"

// pkg is what the check needs of `go list -json`.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

// layer ranks a package: an import must go to a higher rank (further
// down the stack), or stay inside its own group. ok is false for the
// module's unranked helpers (internal/...), which anyone may import.
func layer(path string) (rank int, group string, ok bool) {
	rel, inModule := strings.CutPrefix(path, module+"/")
	if !inModule {
		return 0, "", false
	}
	top, _, _ := strings.Cut(rel, "/")
	switch {
	case top == "cmd":
		return 0, "cmd", true
	case rel == "tui":
		return 10, "tui", true
	case rel == "views/viewstest":
		// The panes' test harness: a test-only helper between the
		// panes and the kit.
		return 25, "viewstest", true
	case top == "views" && rel != "views":
		return 20, rel, true // each pane is its own group: no pane imports another
	case rel == "views":
		return 30, "views", true
	case top == "backend":
		return 40, "backend", true
	case top == "nodeimage":
		return 50, "nodeimage", true
	case top == "tunnel":
		return 50, "tunnel", true
	}
	return 0, "", false
}

// ui and upper are what the node and the tunnel must not depend on, even
// through a helper: they run on machines without a terminal or platform.
var (
	ui    = []string{"github.com/charmbracelet/"}
	upper = []string{module + "/cmd", module + "/tui", module + "/views", module + "/backend"}
)

// apart are dependencies forbidden beyond the layers: the agent's client
// speaks the wire contract (backend/api), not the agent's code (and its
// hundreds of packages).
var apart = map[string]string{module + "/backend/local": module + "/backend/agent"}

// paneBanned are what the kit and the panes must not depend on, even
// through a helper: they reach the platform through backend.Backend
// (and the agent's wire types in backend/api) only.
var paneBanned = []string{module + "/tunnel", module + "/nodeimage", module + "/backend/local", module + "/backend/agent"}

// violations lists every import that breaks the layering.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		if !strings.HasPrefix(p.ImportPath, module) {
			continue
		}
		from, fromGroup, ranked := layer(p.ImportPath)
		imports := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		for _, imp := range imports {
			if strings.HasPrefix(imp, module+"/cmd") {
				out = append(out, fmt.Sprintf("%s imports %s: nothing imports cmd", p.ImportPath, imp))
				continue
			}
			to, toGroup, ok := layer(imp)
			if !ranked || !ok || imp == p.ImportPath || toGroup == fromGroup {
				continue
			}
			if to <= from {
				out = append(out, fmt.Sprintf("%s (%s) imports %s (%s): upward or sideways", p.ImportPath, fromGroup, imp, toGroup))
			}
		}
		if banned, ok := apart[p.ImportPath]; ok && slices.Contains(slices.Concat(p.Imports, p.Deps), banned) {
			out = append(out, fmt.Sprintf("%s depends on %s: use backend/api", p.ImportPath, banned))
		}
		if ranked && from >= 20 && from <= 30 {
			for _, d := range p.Deps {
				if hasPrefix(d, paneBanned) {
					out = append(out, fmt.Sprintf("%s depends on %s: panes reach the platform through backend.Backend", p.ImportPath, d))
				}
			}
		}
		if fromGroup == "nodeimage" || fromGroup == "tunnel" {
			for _, d := range p.Deps {
				if hasPrefix(d, ui) || hasPrefix(d, upper) {
					out = append(out, fmt.Sprintf("%s depends on %s: the node and the tunnel import no UI, platform or backend", p.ImportPath, d))
				}
			}
		}
	}
	return out
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// list runs `go list -deps -json` over the module. Any failure is the
// test's failure: an unlistable tree must not pass as a clean one.
func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-test=false", "-json=ImportPath,Imports,TestImports,XTestImports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list the module's packages: %v\n%s", err, stderr.String())
	}
	touchSources(t)
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// touchSources stats every Go file of the module, so `go test`'s cache
// (which cannot see what `go list` read) reruns this test when one
// changes.
func touchSources(t *testing.T) {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find the module root: %v", err)
	}
	err = filepath.WalkDir(strings.TrimSpace(string(root)), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != strings.TrimSpace(string(root)) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk the module's sources: %v", err)
	}
}

func TestLayers(t *testing.T) {
	pkgs := list(t)
	// A listing that misses the layers would pass vacuously.
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.ImportPath] = true
	}
	for _, want := range []string{"cmd/pgtui", "tui", "views", "views/status", "backend", "backend/local", "nodeimage", "tunnel"} {
		if !seen[module+"/"+want] {
			t.Fatalf("go list did not list %s/%s: cannot check the layers", module, want)
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestViolationsCaught proves the check fails on the imports it forbids
// (each case is a deliberately added bad edge) and passes the allowed ones.
func TestViolationsCaught(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	for _, c := range []struct {
		name string
		p    pkg
		bad  bool
	}{
		{"views imports tui", pkg{ImportPath: m("views"), Imports: []string{m("tui")}}, true},
		{"pane imports pane", pkg{ImportPath: m("views/checks"), Imports: []string{m("views/status")}}, true},
		{"pane test imports pane", pkg{ImportPath: m("views/checks"), TestImports: []string{m("views/status")}}, true},
		{"backend imports views", pkg{ImportPath: m("backend/local"), Imports: []string{m("views")}}, true},
		{"tui imports cmd", pkg{ImportPath: m("tui"), Imports: []string{m("cmd/pgtui")}}, true},
		{"helper imports cmd", pkg{ImportPath: m("internal/render"), Imports: []string{m("cmd/pgtui")}}, true},
		{"node imports backend", pkg{ImportPath: m("nodeimage/keeper"), Imports: []string{m("backend")}}, true},
		{"node imports tunnel", pkg{ImportPath: m("nodeimage/keeper"), Imports: []string{m("tunnel")}}, true},
		{"node depends on UI via a helper", pkg{ImportPath: m("nodeimage"), Imports: []string{m("internal/x")},
			Deps: []string{m("internal/x"), "github.com/charmbracelet/lipgloss"}}, true},
		{"tunnel depends on backend", pkg{ImportPath: m("tunnel"), Deps: []string{m("backend")}}, true},
		{"agent client depends on the agent", pkg{ImportPath: m("backend/local"), Deps: []string{m("backend/agent")}}, true},
		{"pane depends on the tunnel via api", pkg{ImportPath: m("views/wireguard"), Imports: []string{m("backend/api")},
			Deps: []string{m("backend/api"), m("tunnel")}}, true},
		{"kit depends on the agent", pkg{ImportPath: m("views"), Deps: []string{m("backend/agent")}}, true},
		{"cmd imports everything", pkg{ImportPath: m("cmd/pgtui"), Imports: []string{m("tui"), m("views"), m("backend"), m("nodeimage"), m("tunnel")}}, false},
		{"pane imports kit, backend, helper", pkg{ImportPath: m("views/users"), Imports: []string{m("views"), m("backend"), m("internal/password")}}, false},
		{"pane test imports viewstest", pkg{ImportPath: m("views/users"), TestImports: []string{m("views/viewstest"), m("backend/fake")}}, false},
		{"backend imports node and tunnel", pkg{ImportPath: m("backend/agent"), Imports: []string{m("nodeimage/store"), m("tunnel"), m("backend")}}, false},
		{"node imports itself", pkg{ImportPath: m("nodeimage/keeper"), Imports: []string{m("nodeimage/store")}}, false},
	} {
		got := violations([]pkg{c.p})
		if c.bad && len(got) == 0 {
			t.Errorf("%s: not caught", c.name)
		}
		if !c.bad && len(got) > 0 {
			t.Errorf("%s: flagged: %v", c.name, got)
		}
	}
}
