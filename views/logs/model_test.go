package logs

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
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

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, 2)
	return f
}

func TestLogsGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "exporter running on da8141e7")
	vt.Keys(tm, "m")
	vt.WaitFor(t, tm, "machine 6b97fa06")
	vt.Golden(t, tm)
}

// TestStreamDrainsInBatchesAndKeepsTheNewest feeds 12k lines through
// the stream commands: they arrive in batches, the buffer keeps the
// newest, and the view shows the tail.
func TestStreamDrainsInBatchesAndKeepsTheNewest(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	ch := make(chan backend.LogLine, 12000)
	for i := range 12000 {
		ch <- backend.LogLine{Time: vt.Now().Add(time.Duration(i) * time.Millisecond), Machine: "6b97fa06", Proc: "postgres", Message: fmt.Sprint("line ", i)}
	}
	close(ch)
	_, cmd := m.Update(m.drain.Open(func(context.Context) (<-chan backend.LogLine, error) { return ch, nil })())
	msgs := 0
	for cmd != nil {
		msgs++
		_, cmd = m.Update(cmd())
	}
	if msgs > 12000/drainMax+2 {
		t.Fatalf("%d messages for 12000 lines", msgs)
	}
	if m.buf.n != keep || !m.drain.Ended() {
		t.Fatalf("kept %d, ended %v", m.buf.n, m.drain.Ended())
	}
	if v := m.View(); !strings.Contains(v, "line 11999") || strings.Contains(v, "line 6999\n") {
		t.Fatalf("view:\n%s", v)
	}
}

func TestStoppedStreamDropsLines(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{Cluster: name})
	opened := m.Start()()
	m.Stop()
	if _, cmd := m.Update(opened); cmd != nil {
		t.Fatal("a stream opened before Stop was followed")
	}
}

func TestPauseAndScroll(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	m.SetSize(vt.Width, 5)
	for i := range 10 {
		m.add(backend.LogLine{Machine: "a", Message: fmt.Sprint("msg ", i)})
	}
	m.Update(vt.Key("up"))
	m.Update(vt.Key("up"))
	if v := m.View(); !strings.Contains(v, "paused") || !strings.Contains(v, "msg 7") || strings.Contains(v, "msg 9") {
		t.Fatalf("scrolled view:\n%s", v)
	}
	m.add(backend.LogLine{Machine: "a", Message: "msg 10"})
	if v := m.View(); strings.Contains(v, "msg 10") {
		t.Fatalf("a paused view moved:\n%s", v)
	}
	m.Update(vt.Key(" "))
	if v := m.View(); !strings.Contains(v, "msg 10") || !strings.Contains(v, "following") {
		t.Fatalf("resumed view:\n%s", v)
	}
}

// TestWindowIsTheTailOfTheFilteredBuffer checks the ring's window
// against filtering the whole buffer and paging it as the view does:
// every capacity, fill (wrapped or not), filter, scroll and height.
func TestWindowIsTheTailOfTheFilteredBuffer(t *testing.T) {
	for _, capacity := range []int{1, 7, 50} {
		for _, added := range []int{0, 3, 7, 50, 123} {
			r := newRing(capacity)
			for i := range added {
				machine := "b"
				if i%3 == 0 {
					machine = "a"
				}
				r.add(backend.LogLine{Machine: machine, Message: fmt.Sprint(i)})
			}
			for _, machine := range []string{"", "a", "b", "none"} {
				keep := func(l *backend.LogLine) bool { return machine == "" || l.Machine == machine }
				var all []backend.LogLine
				for i := range r.n {
					if l := r.at(i); keep(l) {
						all = append(all, *l)
					}
				}
				for skip := range capacity + 3 {
					for _, room := range []int{1, 2, 5, 60} {
						end := max(len(all)-skip, min(room, len(all)))
						want := all[max(end-room, 0):end]
						got := r.window(skip, room, keep)
						if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
							t.Fatalf("cap %d, added %d, machine %q, skip %d, room %d: got %v, want %v",
								capacity, added, machine, skip, room, got, want)
						}
					}
				}
			}
		}
	}
}

// TestViewCopiesOnlyWhatItShows: a frame of a full buffer costs the
// lines on screen, not the buffer (it was a copy of all 5000 lines, half
// a megabyte a frame, with the stream calling View for every batch).
func TestViewCopiesOnlyWhatItShows(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	for i := range keep + 10 {
		m.add(backend.LogLine{Time: vt.Now(), Machine: "6b97fa06", Proc: "postgres", Message: fmt.Sprint("line ", i)})
	}
	const frames = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range frames {
		_ = m.View()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / frames; per > 64<<10 {
		t.Fatalf("a frame allocates %d bytes", per)
	}
}

// TestLogsFilterGolden: `/` keeps the lines whose process, level or
// message match, and the header shows the filter.
func TestLogsFilterGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "sentinel")
	vt.Keys(tm, " ", "/", "text:sentinel", "enter")
	vt.WaitFor(t, tm, "/sentinel (esc clears)")
	vt.Golden(t, tm)
}
