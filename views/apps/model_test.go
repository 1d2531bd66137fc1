package apps

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const cluster = "md-postgres-500"

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, cluster, 2)
	ctx := context.Background()
	if err := f.CreateApp(ctx, "web", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSecrets(ctx, "web", map[string]string{"API_KEY": "s3cret-value"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAppsGolden: the apps with the selected one's secrets by digest,
// never by value.
func TestAppsGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{}))
	vt.WaitFor(t, tm, "web")
	vt.Keys(tm, "down")
	vt.WaitFor(t, tm, "Secrets of web", "API_KEY")
	h := vt.Golden(t, tm)
	if strings.Contains(h.Pane.View(), "s3cret") {
		t.Fatal("a secret's value is on screen")
	}
}

func loaded(t *testing.T, f *fake.Backend) *Model {
	m := New(vt.Common(f), views.Args{})
	m.SetSize(vt.Width, vt.Height)
	m.Update(m.Start()())
	m.Update(vt.Key("down")) // web, after the cluster's own app
	if a, _ := m.Selected(); a.Name != "web" {
		t.Fatalf("selected %q", a.Name)
	}
	return m
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(vt.Key(string(r)))
	}
}

// TestAttachThenDetach: attach sets the app's secret (its value stays
// off screen); detach asks for the cluster and unsets it.
func TestAttachThenDetach(t *testing.T) {
	f := seeded(t)
	m := loaded(t, f)
	m.Update(vt.Key("a"))
	typeText(m, cluster)
	_, cmd := m.Update(vt.Key("enter"))
	for i := 0; i < 3 && cmd == nil; i++ { // through the optional fields
		_, cmd = m.Update(vt.Key("enter"))
	}
	if done := vt.Task(t, cmd); done.Err != nil {
		t.Fatal(done.Err)
	}
	m.Update(m.Refresh()())
	if v := m.View(); !strings.Contains(v, "DATABASE_URL") || strings.Contains(v, "postgres://") {
		t.Fatalf("after attach:\n%s", v)
	}
	m.Update(vt.Key("D"))
	typeText(m, "nope!")
	m.Update(vt.Key("enter"))
	if !m.Capturing() {
		t.Fatal("an invalid cluster name closed the prompt")
	}
	for range "nope!" {
		m.Update(vt.Key("backspace"))
	}
	typeText(m, cluster)
	_, cmd = m.Update(vt.Key("enter"))
	if done := vt.Task(t, cmd); done.Err != nil {
		t.Fatal(done.Err)
	}
	m.Update(m.Refresh()())
	if strings.Contains(m.View(), "DATABASE_URL") {
		t.Fatalf("after detach:\n%s", m.View())
	}
}

// TestClusterAppHasNoActions: a cluster's own app shows no secrets and
// offers neither attach nor detach.
func TestClusterAppHasNoActions(t *testing.T) {
	m := loaded(t, seeded(t))
	m.Update(vt.Key("up"))
	if m.keys.Attach.Enabled() || m.keys.Detach.Enabled() {
		t.Fatal("attach offered on a cluster")
	}
	if m.Update(vt.Key("a")); m.Capturing() {
		t.Fatal("a opened a prompt on a cluster")
	}
}
