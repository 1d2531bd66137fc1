package dbs

import (
	"context"
	"os"
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

func TestDBsGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "pgtuiadmin")
	vt.Keys(tm, "n", "text:orders", "enter")
	vt.WaitFor(t, tm, "Database orders created", "orders  ")
	vt.Golden(t, tm)
}

func TestDBsDropDialogGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "pgtuiadmin")
	vt.Keys(tm, "D")
	vt.WaitFor(t, tm, "Type postgres to confirm")
	vt.Golden(t, tm)
}

func TestDropNeedsTheName(t *testing.T) {
	f := seeded(t)
	if err := f.CreateDatabase(context.Background(), name, "orders"); err != nil {
		t.Fatal(err)
	}
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.Update(m.Start()())
	m.Update(vt.Key("D"))
	m.Update(vt.Key("enter"))
	if !m.Capturing() {
		t.Fatal("an empty name was accepted")
	}
	for _, r := range "orders" {
		m.Update(vt.Key(string(r)))
	}
	_, cmd := m.Update(vt.Key("enter"))
	if done := vt.Task(t, cmd); done.Err != nil || f.Called("DropDatabase") != 1 {
		t.Fatalf("drop: %v, calls %v", done.Err, f.Calls())
	}
}

func TestInvalidNameNeverReachesBackend(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.Update(m.Start()())
	m.Update(vt.Key("n"))
	for _, r := range "Bad Name" {
		m.Update(vt.Key(string(r)))
	}
	if _, cmd := m.Update(vt.Key("enter")); cmd != nil || !m.Capturing() {
		t.Fatal("an invalid name was submitted")
	}
	if f.Called("CreateDatabase") != 0 {
		t.Fatal("backend called")
	}
}
