package agent

import (
	"slices"
	"testing"

	"github.com/pgtui/pgtui/backend"
)

// The leader's data step is reported as initdb even when its checks pass
// a poll before its role is known (CI once saw no initdb event).
func TestDeploySteps(t *testing.T) {
	running := backend.MachineStatus{State: "running"}
	leader := backend.MachineStatus{State: "running", Role: "leader"}
	replica := backend.MachineStatus{State: "running", Role: "replica"}
	var got []string
	prev := ""
	for _, poll := range []struct {
		m       backend.MachineStatus
		serving bool
	}{{running, false}, {running, true}, {leader, true}} {
		cur := machineStep(poll.m, poll.serving)
		got = append(got, newSteps(prev, cur, poll.m.Role)...)
		prev = cur
	}
	if want := []string{"volume", "started", "initdb", "healthy"}; !slices.Equal(got, want) {
		t.Errorf("leader steps %v, want %v", got, want)
	}
	if got := newSteps("", machineStep(replica, true), "replica"); !slices.Equal(got, []string{"volume", "started", "basebackup", "healthy"}) {
		t.Errorf("replica steps %v", got)
	}
}
