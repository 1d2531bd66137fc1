package main

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPickKinds(t *testing.T) {
	for _, tc := range []struct {
		only string
		want []string
	}{
		{"partition", []string{partitionKind}},
		{"store outage 1s, switchover", []string{"store outage 1s (< TTL)", "switchover under load"}},
		{"store outage", []string{"store outage 1s (< TTL)", "store outage 4s (> TTL)"}},
		{"no such fault", nil},
		{" , ", nil},
	} {
		if got := pickKinds(faultKinds, tc.only); !slices.Equal(got, tc.want) {
			t.Errorf("pickKinds(%q) = %q, want %q", tc.only, got, tc.want)
		}
	}
}

// Hosts mode deals every kind once per round.
func TestHostsPickDealsEveryKind(t *testing.T) {
	h := &hostsHarness{kinds: hostFaultKinds, rng: rand.New(rand.NewPCG(1, 2))}
	for round := 0; round < 3; round++ {
		seen := map[string]int{}
		for range hostFaultKinds {
			seen[h.pick()]++
		}
		for _, k := range hostFaultKinds {
			if seen[k] != 1 {
				t.Errorf("round %d: %q dealt %d times, want 1", round, k, seen[k])
			}
		}
	}
}
