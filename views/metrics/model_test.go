package metrics

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const name = "md-postgres-500"

func seeded(t *testing.T, size int) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, size)
	return f
}

// TestMetricsGolden: leader, replica and a stopped machine over the
// fake's history, at 80x24.
func TestMetricsGolden(t *testing.T) {
	f := seeded(t, 3)
	if err := f.MachineAction(context.Background(), name, "0e286f3c", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	tm := vt.Run(t, New(vt.Common(f), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "60 samples", "0e286f3c")
	vt.Golden(t, tm)
}

// loaded is a pane at w x h with the fake's whole history applied, as
// the program would deliver it.
func loaded(t *testing.T, f *fake.Backend, w, h int) *Model {
	t.Helper()
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.SetSize(w, h)
	_, cmd := m.Update(m.Start()())
	for m.samples < fake.MetricsHistory {
		if cmd == nil {
			t.Fatalf("stream stopped after %d samples", m.samples)
		}
		_, cmd = m.Update(cmd())
	}
	return m
}

func requireFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("%dx%d: view is %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("%dx%d: line %d is %d cells: %q", w, h, i+1, n, l)
		}
	}
}

// TestResizesAndScrolls: every size fits; the sparklines grow with the
// width up to the history; machines that do not fit scroll.
func TestResizesAndScrolls(t *testing.T) {
	m := loaded(t, seeded(t, 3), vt.Width, vt.Height)
	if m.keys.Down.Enabled() {
		t.Fatal("scrolling offered while every machine fits")
	}
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 24}, {40, 12}, {20, 8}, {40, 5}, {80, 21}} {
		m.SetSize(sz[0], sz[1])
		requireFits(t, m.View(), sz[0], sz[1])
	}
	m.SetSize(200, 24)
	if bars := strings.Count(m.View(), "█"); bars < 3*fake.MetricsHistory/10 {
		t.Fatalf("wide view shows %d full bars:\n%s", bars, m.View())
	}
	m.SetSize(80, 12) // one machine and the hint
	v := m.View()
	if !strings.Contains(v, "machines 1-1 of 3") || !strings.Contains(v, "6b97fa06") || strings.Contains(v, "da8141e7") {
		t.Fatalf("small view:\n%s", v)
	}
	if !m.keys.Down.Enabled() {
		t.Fatal("scrolling not offered")
	}
	m.Update(vt.Key("down"))
	m.Update(vt.Key("down"))
	m.Update(vt.Key("down"))
	if v := m.View(); !strings.Contains(v, "machines 3-3 of 3") || !strings.Contains(v, "0e286f3c") {
		t.Fatalf("scrolled past the end:\n%s", v)
	}
	m.SetSize(80, 24)
	if m.offset != 0 || m.keys.Down.Enabled() {
		t.Fatalf("after growing: offset %d", m.offset)
	}
}

// TestStaleStreamDropped: a stream opened before the interval changed
// (or the pane stopped) is never followed, nor are its samples kept.
func TestStaleStreamDropped(t *testing.T) {
	f := seeded(t, 2)
	m := New(vt.Common(f), views.Args{Cluster: name})
	opened := m.Start()()
	_, restart := m.Update(vt.Key("i"))
	if m.every != 2*time.Second || restart == nil {
		t.Fatalf("i: every %s", m.every)
	}
	if _, cmd := m.Update(opened); cmd != nil {
		t.Fatal("a stream opened before the change was followed")
	}
	fresh := restart()
	_, cmd := m.Update(fresh)
	batch := cmd()
	m.Stop()
	if _, cmd := m.Update(batch); cmd != nil || m.samples != 0 {
		t.Fatalf("samples that landed after Stop were kept: %d", m.samples)
	}
	if f.Called("MetricsStream") != 2 {
		t.Fatalf("calls %v", f.Calls())
	}
	m = loaded(t, f, vt.Width, vt.Height)
	if got := m.latest.Time; !got.Equal(fake.Epoch().Add(fake.MetricsHistory * time.Second)) {
		t.Fatalf("newest sample of %s", got)
	}
}

func TestStreamEndsAndErrors(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	_, cmd := m.Update(m.Start()())
	if cmd == nil || !strings.Contains(cmd().(views.ErrMsg).Err.Error(), "metrics of md-postgres-500") {
		t.Fatal("an unknown cluster's error was not reported")
	}
	if !strings.Contains(m.View(), "stream ended") {
		t.Fatalf("view:\n%s", m.View())
	}
	ch := make(chan backend.MetricsSample, 1)
	m.Start()
	ch <- backend.MetricsSample{Leader: "a", Machines: []backend.MachineMetrics{{Machine: "a", Up: true, TPS: 3}}}
	close(ch)
	_, cmd = m.Update(m.drain.Open(func(context.Context) (<-chan backend.MetricsSample, error) { return ch, nil })())
	_, cmd = m.Update(cmd())
	if cmd != nil || !m.drain.Ended() || m.samples != 1 || !strings.Contains(m.View(), "3.0/s") {
		t.Fatalf("ended %v after %d samples:\n%s", m.drain.Ended(), m.samples, m.View())
	}
}

// TestMachinesComeAndGo: a new machine's line starts where it joined; a
// machine a sample no longer lists is forgotten.
func TestMachinesComeAndGo(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	mm := func(id string, tps float64) backend.MachineMetrics {
		return backend.MachineMetrics{Machine: id, Up: true, TPS: tps}
	}
	m.add(backend.MetricsSample{Machines: []backend.MachineMetrics{mm("a", 1)}})
	m.add(backend.MetricsSample{Machines: []backend.MachineMetrics{mm("a", 2), mm("b", 5)}})
	if got := sparkline(m.hist["b"].last(keep), rows()[0], 4); got != "   █" {
		t.Fatalf("b: %q", got)
	}
	m.add(backend.MetricsSample{Machines: []backend.MachineMetrics{mm("b", 5)}})
	if m.hist["a"] != nil || len(m.order) != 1 {
		t.Fatalf("a kept: %v", m.order)
	}
}

func TestSparkline(t *testing.T) {
	pts := func(vs ...float64) []point {
		var out []point
		for _, v := range vs {
			out = append(out, point{up: v >= 0, m: backend.MachineMetrics{TPS: v, SizeBytes: v}})
		}
		return out
	}
	tps, size := rows()[0], rows()[3]
	for _, c := range []struct {
		pts   []point
		r     metric
		width int
		want  string
	}{
		{pts(0, 1, 2, 3, 4, 5, 6, 7), tps, 8, "▁▂▃▄▅▆▇█"},
		{pts(0, 7), tps, 5, "   ▁█"},
		{pts(1, 2, 3, 4), tps, 2, "▆█"},      // newest that fit, scaled among themselves
		{pts(5, -1, 5), tps, 3, "█ █"},       // down in the middle
		{pts(0, 0, 0), tps, 3, "▁▁▁"},        // nothing happening
		{pts(100, 100, 107), size, 3, "▁▁█"}, // size from its lowest value
		{pts(100, 100, 100), size, 3, "▁▁▁"}, // flat
	} {
		if got := sparkline(c.pts, c.r, c.width); got != c.want {
			t.Errorf("sparkline(%v, %s, %d) = %q, want %q", c.pts, c.r.label, c.width, got, c.want)
		}
	}
	for v, want := range map[float64]string{0: "0s", 0.0123: "12ms", 1.254: "1.25s", 42.4: "42s"} {
		if got := lagText(v); got != want {
			t.Errorf("lagText(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestHistoryIsBounded(t *testing.T) {
	var h history
	for i := range 10 * keep {
		h.add(point{m: backend.MachineMetrics{TPS: float64(i)}})
	}
	if len(h.pts) > 2*keep || len(h.last(keep)) != keep || h.last(1)[0].m.TPS != float64(10*keep-1) {
		t.Fatalf("%d points kept, newest %v", len(h.pts), h.last(1))
	}
}
