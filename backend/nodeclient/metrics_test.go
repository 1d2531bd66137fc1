package nodeclient

import (
	"context"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// TestProduceNeverWaitsForTheReader: with nobody reading, the sampler
// still takes every sample and returns when told; the channel then
// holds the newest one.
func TestProduceNeverWaitsForTheReader(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan int, 1)
	taken := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Produce(ctx, time.Millisecond, func(context.Context) (int, bool) {
			taken++
			return taken, taken < 50
		}, out)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the producer waited for a reader")
	}
	if got := <-out; got != 49 || taken != 50 {
		t.Fatalf("newest sample %d after %d taken", got, taken)
	}
}

// TestProduceEndsWithItsContext: cancelling ends the loop even while
// samples keep coming.
func TestProduceEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan int, 1)
	n := 0
	Produce(ctx, time.Millisecond, func(context.Context) (int, bool) {
		if n++; n == 3 {
			cancel()
		}
		return n, true
	}, out)
	if got := <-out; got != 2 {
		t.Fatalf("after cancel: newest sample %d, want 2 (the third was taken after the end)", got)
	}
}

func TestDeriveTPS(t *testing.T) {
	at := time.Unix(1000, 0)
	c := []Target{{ID: "a", Region: "iad"}, {ID: "b", Region: "iad"}, {ID: "c", Region: "iad"}, {ID: "d", Region: "iad"}}
	prev := map[string]Sample{
		"a": {At: at, Xacts: 100, Up: true},
		"b": {At: at, Xacts: 500, Up: true},
		"c": {At: at, Xacts: 1, Up: true},
	}
	cur := map[string]Sample{
		"a": {At: at.Add(2 * time.Second), Xacts: 300, Connections: 4, LagSeconds: 0.5, SizeBytes: 8 << 20, Up: true},
		"b": {At: at.Add(2 * time.Second), Xacts: 10, Up: true}, // restarted: counters reset
		"d": {At: at.Add(2 * time.Second), Xacts: 10, Up: true}, // no earlier reading
	}
	got := Derive(c, prev, cur)
	want := []backend.MachineMetrics{
		{Machine: "a", Region: "iad", Up: true, TPS: 100, Connections: 4, LagSeconds: 0.5, SizeBytes: 8 << 20},
		{Machine: "b", Region: "iad", Up: true},
		{Machine: "c", Region: "iad"},
		{Machine: "d", Region: "iad", Up: true},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("machine %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
