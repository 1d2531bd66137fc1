package fake_test

import (
	"context"
	"fmt"
	"strings"
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

// TestNodeLogFollowsFailovers: a switchover and a stopped leader make
// the nodes log what real ones do, in the backend's message format; an
// open followed stream gets the lines as they are logged (filtered by
// machine), later streams replay them after the fixed lines.
func TestNodeLogFollowsFailovers(t *testing.T) {
	b := fake.New()
	if _, err := b.AddCluster(req); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	all, err := b.Logs(ctx, "pg", backend.LogFilter{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	one, err := b.Logs(ctx, "pg", backend.LogFilter{Follow: true, Machine: "6b97fa06"})
	if err != nil {
		t.Fatal(err)
	}
	fixed := len(all) // the fixed lines are queued before Logs returns
	for range fixed {
		<-all
	}
	for range len(one) {
		<-one
	}
	if _, err := b.Failover(ctx, "pg"); err != nil {
		t.Fatal(err)
	}
	if err := b.MachineAction(ctx, "pg", "da8141e7", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	if err := b.MachineAction(ctx, "pg", "da8141e7", backend.ActionStart); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range len(all) {
		l := <-all
		got = append(got, l.Machine+" "+l.Proc+": "+l.Message)
	}
	want := []string{
		"6b97fa06 sentinel: switchover: stopping leader 6b97fa06 cleanly before promoting da8141e7 kind=switchover generation=1",
		"6b97fa06 keeper: switchover: stopped cleanly wal=0/3000060",
		"6b97fa06 sentinel: switchover: 6b97fa06 stopped cleanly and da8141e7 has all its WAL; promoting da8141e7 in generation 2 kind=switchover generation=2",
		"da8141e7 keeper: promoting generation=2",
		"6b97fa06 proxy: proxy switched generation=2 addr=127.0.1.3:5433 from_generation=1 from_addr=127.0.1.2:5433 closed=0 unfenced=false",
		"da8141e7 proxy: proxy switched generation=2 addr=127.0.1.3:5433 from_generation=1 from_addr=127.0.1.2:5433 closed=0 unfenced=false",
		"0e286f3c proxy: proxy switched generation=2 addr=127.0.1.3:5433 from_generation=1 from_addr=127.0.1.2:5433 closed=0 unfenced=false",
		"6b97fa06 keeper: starting as replica leader=da8141e7 generation=2",
		"6b97fa06 sentinel: leader da8141e7 is gone (lease expired); promoting 0e286f3c (most WAL: 50331744) in generation 3 kind=failover generation=3",
		"0e286f3c keeper: promoting generation=3",
		"6b97fa06 proxy: proxy switched generation=3 addr=127.0.1.4:5433 from_generation=2 from_addr=127.0.1.3:5433 closed=0 unfenced=false",
		"0e286f3c proxy: proxy switched generation=3 addr=127.0.1.4:5433 from_generation=2 from_addr=127.0.1.3:5433 closed=0 unfenced=false",
		"da8141e7 keeper: starting as replica leader=0e286f3c generation=3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("followed lines:\n%s", strings.Join(got, "\n"))
	}
	mine := 0
	for _, w := range want {
		if strings.HasPrefix(w, "6b97fa06 ") {
			mine++
		}
	}
	if n := len(one); n != mine {
		t.Fatalf("the machine's stream got %d lines, want its %d", n, mine)
	}

	replay, err := b.Logs(ctx, "pg", backend.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(replay); n != fixed+len(want) {
		t.Fatalf("replay of %d lines, want %d", n, fixed+len(want))
	}
	cancel()
	for range all { // ends with ctx
	}
	for range one {
	}
}
