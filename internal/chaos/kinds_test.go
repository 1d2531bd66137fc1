package main

import (
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
