package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/nodeclient"
)

// tailBytes bounds how far back in a log file past lines are looked for.
const tailBytes = 512 << 10

// handleLogs streams a cluster's log lines as newline-delimited JSON. The
// lines come from the machines' log files, so a slow reader only slows
// this request, never a node.
func (a *Agent) handleLogs(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c, _, err := a.snapshot(name)
	if err != nil {
		reply(w, nil, err)
		return
	}
	q := r.URL.Query()
	f := backend.LogFilter{Machine: q.Get("machine"), Follow: q.Get("follow") == "1"}
	f.Lines, _ = strconv.Atoi(q.Get("lines"))
	if f.Lines <= 0 {
		f.Lines = 100
	}
	var files []*logFile
	for _, m := range c.Machines {
		if f.Machine == "" || f.Machine == m.ID {
			files = append(files, &logFile{path: logPath(a.cfg.Home, m.ID), machine: m.ID, region: m.Region})
		}
	}
	if len(files) == 0 {
		reply(w, nil, notFound("machine", f.Machine))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	send := func(lines []backend.LogLine) bool {
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
		for _, l := range lines {
			if enc.Encode(l) != nil {
				return false
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	var past []backend.LogLine
	for _, lf := range files {
		past = append(past, lf.tail(f.Lines)...)
	}
	if !send(past) || !f.Follow {
		return
	}
	a.followLogs(r.Context(), files, send)
}

func (a *Agent) followLogs(ctx context.Context, files []*logFile, send func([]backend.LogLine) bool) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		var fresh []backend.LogLine
		for _, lf := range files {
			fresh = append(fresh, lf.more()...)
		}
		if len(fresh) > 0 && !send(fresh) {
			return
		}
	}
}

// logFile reads one machine's log from an offset on.
type logFile struct {
	path, machine, region string
	offset                int64
}

// tail returns the last n lines and remembers where the file ends.
func (lf *logFile) tail(n int) []backend.LogLine {
	f, err := os.Open(lf.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	start := max(fi.Size()-tailBytes, 0)
	lines := lf.read(f, start, fi.Size())
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// more returns lines appended since the last read; after a rotation the
// new file is read from its start.
func (lf *logFile) more() []backend.LogLine {
	f, err := os.Open(lf.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	if fi.Size() < lf.offset {
		lf.offset = 0
	}
	if fi.Size() == lf.offset {
		return nil
	}
	return lf.read(f, lf.offset, fi.Size())
}

func (lf *logFile) read(f *os.File, from, to int64) []backend.LogLine {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil
	}
	sc := bufio.NewScanner(io.LimitReader(f, to-from))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []backend.LogLine
	consumed := from
	first := from > 0 // a tail starting mid-file begins mid-line
	for sc.Scan() {
		text := sc.Text()
		consumed += int64(len(text)) + 1
		if first {
			first = false
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		l := nodeclient.ParseLogLine(text)
		l.Machine, l.Region = lf.machine, lf.region
		out = append(out, l)
	}
	lf.offset = min(consumed, to)
	return out
}
