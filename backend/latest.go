package backend

import "time"

// Metrics stream intervals.
const (
	DefaultMetricsEvery = time.Second
	MinMetricsEvery     = 100 * time.Millisecond
)

// MetricsEvery is the interval a MetricsStream asked for every samples
// at: the default when unset, never below the minimum.
func MetricsEvery(every time.Duration) time.Duration {
	if every <= 0 {
		return DefaultMetricsEvery
	}
	return max(every, MinMetricsEvery)
}

// SendLatest puts v in ch without waiting: when ch is full, the oldest
// unread value is dropped to make room. It reports whether a value was
// dropped. ch must have a capacity of at least one and no other sender,
// so the room made stays free until v is in.
func SendLatest[T any](ch chan T, v T) (dropped bool) {
	select {
	case ch <- v:
		return false
	default:
	}
	select {
	case <-ch:
		dropped = true
	default: // the reader took it meanwhile
	}
	ch <- v
	return dropped
}
