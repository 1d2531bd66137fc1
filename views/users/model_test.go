package users

import (
	"os"
	"regexp"
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

const name = "md-postgres-500"

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, 2)
	return f
}

func TestUsersGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "repluser")
	vt.Golden(t, tm)
}

func TestUsersCreatePromptGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "repluser")
	vt.Keys(tm, "n", "text:App", "tab", "tab", "text:maybe")
	vt.WaitFor(t, tm, "is not valid")
	vt.Golden(t, tm)
}

func TestUsersDropBuiltinGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "repluser")
	vt.Keys(tm, "D", "y")
	vt.WaitFor(t, tm, "[status] error")
	vt.Golden(t, tm)
}

func loaded(t *testing.T, f *fake.Backend) *Model {
	t.Helper()
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.Update(m.Start()())
	if !m.List.Loaded() {
		t.Fatal("list not loaded")
	}
	return m
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(vt.Key(string(r)))
	}
}

func TestCreateShowsGeneratedPasswordOnce(t *testing.T) {
	f := seeded(t)
	m := loaded(t, f)
	m.Update(vt.Key("n"))
	typeText(m, "app")
	m.Update(vt.Key("enter"))
	m.Update(vt.Key("enter"))
	_, cmd := m.Update(vt.Key("enter"))
	done := vt.Task(t, cmd)
	if done.Err != nil {
		t.Fatal(done.Err)
	}
	_, refresh := m.Update(done.Result)
	m.Update(refresh())
	view := m.View()
	if !regexp.MustCompile(`Password: [0-9a-f]{48}`).MatchString(view) || !strings.Contains(view, "app ") {
		t.Fatalf("view after create:\n%s", view)
	}
	if !m.keys.Copy.Enabled() {
		t.Fatal("copy is off while a password is shown")
	}
	m.Update(vt.Key("down"))
	if strings.Contains(m.View(), "Password:") || m.keys.Copy.Enabled() {
		t.Fatal("the password outlived the next key")
	}
}

func TestDropAsksFirst(t *testing.T) {
	f := seeded(t)
	m := loaded(t, f)
	m.Update(vt.Key("D"))
	if !m.Capturing() || f.Called("DropUser") != 0 {
		t.Fatal("D dropped without asking")
	}
	m.Update(vt.Key("n"))
	if m.Capturing() || f.Called("DropUser") != 0 {
		t.Fatal("n did not cancel")
	}
}

func TestParse(t *testing.T) {
	if u, err := parse([]string{"app", "", "yes"}); err != nil || !u.superuser {
		t.Fatalf("parse = %+v, %v", u, err)
	}
	if _, err := parse([]string{"app", "", "perhaps"}); err == nil {
		t.Fatal("perhaps accepted as a superuser answer")
	}
}
