package logs

import "github.com/pgtui/pgtui/backend"

// ring keeps the newest capacity lines.
type ring struct {
	buf   []backend.LogLine
	start int
	n     int
}

func newRing(capacity int) *ring { return &ring{buf: make([]backend.LogLine, capacity)} }

func (r *ring) add(l backend.LogLine) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return
	}
	r.buf[r.start] = l
	r.start = (r.start + 1) % len(r.buf)
}

// at is the i-th kept line, oldest first.
func (r *ring) at(i int) *backend.LogLine { return &r.buf[(r.start+i)%len(r.buf)] }

// window returns, oldest first, up to room of the kept lines that pass
// keep: those that end skip such lines before the newest, or the oldest
// room of them when fewer than skip+room pass. It walks back from the
// newest line only as far as it needs and copies only what it returns:
// it runs on every frame, while the buffer fills thousands of times a
// second.
func (r *ring) window(skip, room int, keep func(*backend.LogLine) bool) []backend.LogLine {
	want := skip + room
	idx := make([]int, 0, min(want, r.n)) // newest first
	for i := r.n - 1; i >= 0 && len(idx) < want; i-- {
		if keep(r.at(i)) {
			idx = append(idx, i)
		}
	}
	// Of the n passing lines found, oldest first, show [from, end): the
	// page ending skip lines before the newest, or the oldest page.
	n := len(idx)
	end := max(n-skip, min(room, n))
	from := max(end-room, 0)
	pick := idx[n-end : n-from]
	out := make([]backend.LogLine, len(pick))
	for k, i := range pick {
		out[len(pick)-1-k] = *r.at(i)
	}
	return out
}

func (r *ring) reset() { r.start, r.n = 0, 0 }
