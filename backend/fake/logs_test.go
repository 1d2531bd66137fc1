package fake_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
)

// TestLogsGenerated: LogBurst lines follow the fixed ones, taking turns
// over the machines and numbered from 1, then LogRate lines a second
// until the stream ends; without Follow nothing is generated.
func TestLogsGenerated(t *testing.T) {
	b := fake.New()
	if _, err := b.AddCluster(req); err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(context.Background(), "pg")
	if err != nil {
		t.Fatal(err)
	}
	b.LogBurst, b.LogRate = 1000, 5000

	once, err := b.Logs(context.Background(), "pg", backend.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range once {
		n++
	}
	if n != 5*len(st.Machines) || b.GeneratedLogLines() != 0 {
		t.Fatalf("without follow: %d lines, %d generated", n, b.GeneratedLogLines())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := b.Logs(ctx, "pg", backend.LogFilter{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 * len(st.Machines) {
		if l := <-ch; l.Message != l.Proc+" running on "+l.Machine {
			t.Fatalf("fixed line %+v", l)
		}
	}
	seen := map[string]int{}
	for i := 1; i <= 1100; i++ { // the burst and some paced lines
		l, ok := <-ch
		if !ok {
			t.Fatalf("stream closed at generated line %d", i)
		}
		if want := fmt.Sprint("generated line ", i); l.Message != want {
			t.Fatalf("line %q, want %q", l.Message, want)
		}
		seen[l.Machine]++
	}
	if len(seen) != len(st.Machines) {
		t.Fatalf("generated lines came from %v", seen)
	}
	if g := b.GeneratedLogLines(); g < 1100 {
		t.Fatalf("%d generated", g)
	}
	cancel()
	for range ch { // closes once ctx ended
	}
}
