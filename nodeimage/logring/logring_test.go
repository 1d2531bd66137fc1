package logring

import (
	"fmt"
	"testing"
	"time"
)

// TestRingKeepsNewestCompleteLines: partial writes wait for their
// newline, the ring keeps only the newest lines, and After resumes by
// sequence number.
func TestRingKeepsNewestCompleteLines(t *testing.T) {
	r := New(3)
	fmt.Fprint(r, "a\nb")
	if got, _ := r.After(0, time.Time{}, 0); len(got) != 1 || got[0].Line != "a" {
		t.Fatalf("after a partial write: %+v", got)
	}
	fmt.Fprint(r, "c\nd\ne\n\n")
	got, last := r.After(0, time.Time{}, 0)
	if len(got) != 3 || got[0].Line != "bc" || got[2].Line != "e" || last != 4 {
		t.Fatalf("ring: %+v last %d", got, last)
	}
	if got, _ := r.After(3, time.Time{}, 0); len(got) != 1 || got[0].Line != "e" {
		t.Fatalf("after seq 3: %+v", got)
	}
	if got, _ := r.After(0, time.Time{}, 1); len(got) != 1 || got[0].Line != "e" {
		t.Fatalf("limit 1: %+v", got)
	}
}

// TestSubscribersAreSignalledNotBlocking: a subscriber that never reads
// does not hold writers up.
func TestSubscribersAreSignalledNotBlocking(t *testing.T) {
	r := New(10)
	ch, stop := r.Subscribe()
	defer stop()
	for i := range 100 {
		fmt.Fprintf(r, "line %d\n", i)
	}
	select {
	case <-ch:
	default:
		t.Fatal("no signal")
	}
}
