package agent

import (
	"bytes"
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
	// last is the newest time read: a line without one of its own (a
	// child's output such as archive_command's pgBackRest errors, or a
	// continuation line) belongs to the moment of the line before it.
	last time.Time
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
	lines := lf.read(f, start, fi.Size(), start > 0) // mid-file: the first line is partial
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
	return lf.read(f, lf.offset, fi.Size(), false) // offset is a line's start
}

// read parses the lines in [from, to); partial drops the first, which a
// tail that starts mid-file cuts.
func (lf *logFile) read(f *os.File, from, to int64, partial bool) []backend.LogLine {
	buf := make([]byte, to-from)
	n, err := f.ReadAt(buf, from)
	if err != nil && err != io.EOF {
		return nil
	}
	buf = buf[:n]
	// A last line without its newline is still being written: it is read
	// whole next time.
	end := bytes.LastIndexByte(buf, '\n') + 1
	buf = buf[:end]
	lf.offset = from + int64(end)
	var out []backend.LogLine
	first := partial
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		text := string(buf[:i])
		buf = buf[i+1:]
		if first {
			first = false
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		l := nodeclient.ParseLogLine(text)
		l.Machine, l.Region = lf.machine, lf.region
		if l.Time.IsZero() {
			l.Time = lf.last
		} else {
			lf.last = l.Time
		}
		out = append(out, l)
	}
	// Lines at the start of a tail with no time before them take the
	// first time that follows.
	for i := 0; i < len(out) && out[i].Time.IsZero(); i++ {
		for _, next := range out[i:] {
			if !next.Time.IsZero() {
				out[i].Time = next.Time
				break
			}
		}
	}
	return out
}
