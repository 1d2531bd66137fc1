package backend

import (
	"testing"
	"time"
)

// TestSendLatestKeepsTheNewest: a reader that never reads holds the
// writer up for no send; it then finds only the newest value.
func TestSendLatestKeepsTheNewest(t *testing.T) {
	ch := make(chan int, 1)
	dropped := 0
	for i := range 100 {
		if SendLatest(ch, i) {
			dropped++
		}
	}
	if got := <-ch; got != 99 || dropped != 99 || len(ch) != 0 {
		t.Fatalf("read %d with %d dropped, %d left", got, dropped, len(ch))
	}
	if SendLatest(ch, 7) || <-ch != 7 {
		t.Fatal("a send into an empty channel dropped something")
	}
}

// TestSendLatestWithAConcurrentReader: every value the reader sees is
// newer than the one before, and the last one arrives.
func TestSendLatestWithAConcurrentReader(t *testing.T) {
	ch := make(chan int, 1)
	done := make(chan []int)
	go func() {
		var seen []int
		for v := range ch {
			seen = append(seen, v)
		}
		done <- seen
	}()
	for i := range 10000 {
		SendLatest(ch, i)
	}
	close(ch)
	seen := <-done
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("value %d after %d", seen[i], seen[i-1])
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] != 9999 {
		t.Fatalf("the newest value was lost: %d values seen", len(seen))
	}
}

func TestMetricsEvery(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: DefaultMetricsEvery, -time.Second: DefaultMetricsEvery, time.Millisecond: MinMetricsEvery, 3 * time.Second: 3 * time.Second,
	} {
		if got := MetricsEvery(in); got != want {
			t.Errorf("MetricsEvery(%s) = %s, want %s", in, got, want)
		}
	}
}
