package metrics

import (
	"fmt"
	"math"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/pgtui/pgtui/backend"
)

// keep is how many samples a machine's history holds: more than the
// widest sparkline needs.
const keep = 512

// metric is one row of a machine's block.
type metric struct {
	label string
	of    func(backend.MachineMetrics) float64
	show  func(float64) string
	// fromZero scales the sparkline from 0 (rates, counts, lag) rather
	// than from the window's lowest value (size, which only creeps up).
	fromZero bool
}

// rows are the four metrics, in the order a block shows them.
func rows() []metric {
	return []metric{
		{label: "TPS", of: func(m backend.MachineMetrics) float64 { return m.TPS }, show: func(v float64) string { return fmt.Sprintf("%.1f/s", v) }, fromZero: true},
		{label: "conns", of: func(m backend.MachineMetrics) float64 { return m.Connections }, show: func(v float64) string { return fmt.Sprintf("%.0f", v) }, fromZero: true},
		{label: "lag", of: func(m backend.MachineMetrics) float64 { return m.LagSeconds }, show: lagText, fromZero: true},
		{label: "size", of: func(m backend.MachineMetrics) float64 { return m.SizeBytes }, show: func(v float64) string { return humanize.Bytes(uint64(max(v, 0))) }},
	}
}

// lagText is replication lag: 0s, 12ms, 1.25s, 42s.
func lagText(v float64) string {
	switch {
	case v <= 0:
		return "0s"
	case v < 1:
		return fmt.Sprintf("%.0fms", v*1000)
	case v < 10:
		return fmt.Sprintf("%.2fs", v)
	}
	return fmt.Sprintf("%.0fs", v)
}

// point is one machine in one sample.
type point struct {
	up bool
	m  backend.MachineMetrics
}

// history is a machine's newest points, oldest first.
type history struct{ pts []point }

func (h *history) add(p point) {
	if len(h.pts) == 2*keep {
		h.pts = append(h.pts[:0], h.pts[keep:]...)
	}
	h.pts = append(h.pts, p)
}

// last returns the newest n points or fewer.
func (h *history) last(n int) []point { return h.pts[max(len(h.pts)-n, 0):] }

// sparkline draws one metric of pts in width cells, newest on the
// right: one block (▁ to █) per point, a blank where the machine was
// down or before its first point.
func sparkline(pts []point, r metric, width int) string {
	pts = pts[max(len(pts)-width, 0):]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.up {
			lo, hi = min(lo, r.of(p.m)), max(hi, r.of(p.m))
		}
	}
	if r.fromZero {
		lo = 0
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", width-len(pts)))
	for _, p := range pts {
		if !p.up {
			b.WriteByte(' ')
			continue
		}
		level := 0
		if hi > lo {
			level = int(math.Round((r.of(p.m) - lo) / (hi - lo) * 7))
		}
		b.WriteRune('▁' + rune(min(max(level, 0), 7)))
	}
	return b.String()
}
