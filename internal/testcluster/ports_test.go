package testcluster

import "testing"

// Ports asked for together never repeat (one at a time they may).
func TestFreePortsDistinct(t *testing.T) {
	ports, err := FreePorts("127.0.0.1", 16)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d handed out twice in %v", p, ports)
		}
		seen[p] = true
	}
}
