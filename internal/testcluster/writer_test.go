package testcluster

import (
	"testing"
	"time"
)

func TestSplitBrain(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name string
		acks []Ack
		want int
	}{
		{"none", nil, 0},
		{"one leader", []Ack{{Node: "a", Timeline: 1, Server: at(1)}, {Node: "a", Timeline: 1, Server: at(2)}}, 0},
		{"clean failover", []Ack{{Node: "a", Timeline: 1, Server: at(1)}, {Node: "b", Timeline: 2, Server: at(5)}, {Node: "b", Timeline: 2, Server: at(6)}}, 0},
		{"old leader acks after the new one", []Ack{{Node: "a", Timeline: 1, Server: at(1)}, {Node: "b", Timeline: 2, Server: at(5)}, {Node: "a", Timeline: 1, Server: at(7)}}, 1},
		{"unsorted input", []Ack{{Node: "a", Timeline: 1, Server: at(7)}, {Node: "b", Timeline: 2, Server: at(5)}, {Node: "a", Timeline: 1, Server: at(1)}}, 1},
		{"two nodes on one timeline", []Ack{{Node: "a", Timeline: 1, Server: at(1)}, {Node: "b", Timeline: 1, Server: at(2)}}, 1},
	} {
		if got := SplitBrain(tc.acks); got != tc.want {
			t.Errorf("%s: SplitBrain = %d, want %d", tc.name, got, tc.want)
		}
	}
}
