package views

import (
	"context"
	"errors"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestDrainBatchesAndEnds: queued items come in batches of at most Max,
// the close is seen, and Ended says so.
func TestDrainBatchesAndEnds(t *testing.T) {
	d := Drain[int]{PaneID: 1, Max: 4}
	ch := make(chan int, 10)
	for i := range 10 {
		ch <- i
	}
	close(ch)
	_, cmd, ok := d.Update(d.Open(func(context.Context) (<-chan int, error) { return ch, nil })())
	if !ok || cmd == nil {
		t.Fatal("the opened stream was not followed")
	}
	var got []int
	batches := 0
	for cmd != nil {
		var items []int
		items, cmd, _ = d.Update(cmd())
		got = append(got, items...)
		batches++
	}
	if len(got) != 10 || got[9] != 9 || batches != 3 || !d.Ended() || d.Failed() {
		t.Fatalf("got %v in %d batches, ended %v", got, batches, d.Ended())
	}
}

// TestDrainDropsStaleAndCancels: Stop cancels the stream's context and
// drops what was in flight; a failed open is reported once.
func TestDrainDropsStaleAndCancels(t *testing.T) {
	d := Drain[int]{PaneID: 1, Max: 4}
	var ctxs []context.Context
	open := func(ctx context.Context) (<-chan int, error) {
		ctxs = append(ctxs, ctx)
		ch := make(chan int, 1)
		ch <- 7
		return ch, nil
	}
	first := d.Open(open)()
	_, wait, _ := d.Update(first)
	batch := wait()
	d.Stop()
	if ctxs[0].Err() == nil {
		t.Fatal("Stop did not cancel the stream")
	}
	if items, cmd, ok := d.Update(batch); !ok || items != nil || cmd != nil {
		t.Fatalf("a batch after Stop was taken: %v", items)
	}
	if _, _, ok := d.Update(ResultMsg{Msg: PollTick{}}); ok {
		t.Fatal("a message that is not the drain's was taken")
	}
	_, cmd, _ := d.Update(d.Open(func(context.Context) (<-chan int, error) { return nil, errors.New("no such cluster") })())
	if !d.Failed() || !d.Ended() || cmd == nil {
		t.Fatal("a failed open was not reported")
	}
	if msg, ok := cmd().(ErrMsg); !ok || msg.Err.Error() != "no such cluster" {
		t.Fatalf("reported %#v", msg)
	}
	var _ tea.Cmd = cmd
}
