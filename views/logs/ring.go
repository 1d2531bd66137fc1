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

// lines returns the kept lines, oldest first, that pass keep.
func (r *ring) lines(keep func(backend.LogLine) bool) []backend.LogLine {
	out := make([]backend.LogLine, 0, r.n)
	for i := range r.n {
		if l := r.buf[(r.start+i)%len(r.buf)]; keep(l) {
			out = append(out, l)
		}
	}
	return out
}

func (r *ring) reset() { r.start, r.n = 0, 0 }
