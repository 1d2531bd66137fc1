// Package logring holds a node's recent log lines in memory, bounded, for
// GET /logs on its health port: the node's slog handler and the writer of
// postgres's output both feed it (it is an io.Writer of lines), and
// followers get each new line as it is written.
package logring

import (
	"bytes"
	"sync"
	"time"

	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// DefaultSize is how many lines a node keeps.
const DefaultSize = 5000

// maxLine bounds one stored line; longer ones are cut.
const maxLine = 16 << 10

// Ring is a bounded buffer of the newest lines. The zero value is not
// usable: call New.
type Ring struct {
	now func() time.Time

	mu      sync.Mutex
	lines   []nodeapi.LogEntry // circular, len == cap once full
	next    int                // where the next line goes once full
	seq     uint64
	partial []byte
	subs    map[chan struct{}]struct{}
}

// New keeps the newest size lines (DefaultSize when size <= 0).
func New(size int) *Ring {
	if size <= 0 {
		size = DefaultSize
	}
	return &Ring{now: time.Now, lines: make([]nodeapi.LogEntry, 0, size), subs: map[chan struct{}]struct{}{}}
}

// Write stores every complete line of p; a trailing piece without a
// newline waits for the rest. It never blocks on readers.
func (r *Ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.add(string(bytes.TrimRight(r.partial[:min(i, maxLine)], "\r")))
		r.partial = r.partial[i+1:]
		added = true
	}
	if len(r.partial) > maxLine { // a runaway line without newline
		r.add(string(r.partial[:maxLine]))
		r.partial = r.partial[:0]
		added = true
	}
	if len(r.partial) == 0 {
		r.partial = nil // do not pin a large buffer
	}
	if added {
		for ch := range r.subs {
			select {
			case ch <- struct{}{}:
			default: // already signalled
			}
		}
	}
	return len(p), nil
}

// add stores one line; callers hold r.mu.
func (r *Ring) add(line string) {
	if line == "" {
		return
	}
	r.seq++
	e := nodeapi.LogEntry{Seq: r.seq, Time: r.now().UTC(), Line: line}
	if len(r.lines) < cap(r.lines) {
		r.lines = append(r.lines, e)
		return
	}
	r.lines[r.next] = e
	r.next = (r.next + 1) % len(r.lines)
}

// After returns the stored lines with Seq > seq and Time >= since, oldest
// first, at most limit of the newest (no limit when limit <= 0), and the
// sequence number of the newest line stored, to follow on from.
func (r *Ring) After(seq uint64, since time.Time, limit int) ([]nodeapi.LogEntry, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []nodeapi.LogEntry
	n := len(r.lines)
	for i := range n {
		e := r.lines[(r.next+i)%n]
		if e.Seq > seq && !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, r.seq
}

// Subscribe returns a channel that receives a signal whenever lines were
// added, and a function that ends the subscription.
func (r *Ring) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	r.subs[ch] = struct{}{}
	r.mu.Unlock()
	return ch, func() {
		r.mu.Lock()
		delete(r.subs, ch)
		r.mu.Unlock()
	}
}
