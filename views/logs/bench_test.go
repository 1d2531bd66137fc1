package logs

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func benchPane(b *testing.B) *Model {
	c := vt.Common(fake.New())
	c.Width, c.Height = 80, 24
	return New(c, views.Args{Cluster: name})
}

func line(i int) backend.LogLine {
	return backend.LogLine{Time: time.Unix(int64(i), 0), Machine: "6b97fa06", Region: "iad", Proc: "postgres", Level: "info",
		Message: fmt.Sprintf("checkpoint complete: wrote %d buffers", i)}
}

// BenchmarkLogsView: render time of a full logs pane at 80x24.
func BenchmarkLogsView(b *testing.B) {
	m := benchPane(b)
	for i := 0; i < keep; i++ {
		m.add(line(i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkLogsMillionLines: heap after one million lines stays at the
// ring's size (reported as MB-heap), and the per-line cost.
func BenchmarkLogsMillionLines(b *testing.B) {
	var ms runtime.MemStats
	for i := 0; i < b.N; i++ {
		m := benchPane(b)
		for j := 0; j < 1_000_000; j++ {
			m.add(line(j))
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		_ = m.View()
	}
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MB-heap")
}
