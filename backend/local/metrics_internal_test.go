package local

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// TestRelayKeepsOnlyTheNewestSample: a reader that does not keep up
// never holds the decoding up; it finds the newest sample, and lines
// that are not samples are skipped.
func TestRelayKeepsOnlyTheNewestSample(t *testing.T) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	at := time.Date(2021, 2, 10, 23, 21, 21, 0, time.UTC)
	for i := range 100 {
		if err := enc.Encode(backend.MetricsSample{Time: at.Add(time.Duration(i) * time.Second), Leader: "6b97fa06",
			Machines: []backend.MachineMetrics{{Machine: "6b97fa06", Up: true, TPS: float64(i)}}}); err != nil {
			t.Fatal(err)
		}
		if i == 50 {
			body.WriteString("not json\n")
		}
	}
	out := make(chan backend.MetricsSample, 1)
	relaySamples(&body, out) // nobody reads: it must return all the same
	s := <-out
	if len(out) != 0 || s.Machines[0].TPS != 99 || !s.Time.Equal(at.Add(99*time.Second)) || s.Leader != "6b97fa06" {
		t.Fatalf("kept %+v (%d more)", s, len(out))
	}
}
