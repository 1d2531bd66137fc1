package main

import (
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

func TestUnavailability(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []testcluster.Ack {
		var as []testcluster.Ack
		for _, m := range ms {
			as = append(as, testcluster.Ack{Client: t0.Add(time.Duration(m) * time.Millisecond)})
		}
		return as
	}
	end := t0.Add(10 * time.Second)
	for _, c := range []struct {
		name string
		acks []testcluster.Ack
		want time.Duration
	}{
		{"first write after the fault", at(-30, -10, 2500, 2510, 2520), 2500 * time.Millisecond},
		{"a later gap is longer", at(-10, 5, 10, 3010, 3020), 3000 * time.Millisecond},
		{"acks after the end do not count", at(-10, 100, 11000), 100 * time.Millisecond},
		{"no outage", at(-10, 1, 2, 3), time.Millisecond},
	} {
		if got := unavailability(c.acks, t0, end); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestPct(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	if got := pctD(ds, 50); got != 5 {
		t.Errorf("p50 = %d, want 5", got)
	}
	if got := pctD(ds, 99); got != 10 {
		t.Errorf("p99 = %d, want 10", got)
	}
	if got := pctD(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %d, want 0", got)
	}
}
