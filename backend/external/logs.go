package external

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// followRetry is how soon a follower reconnects to a node that went away.
const followRetry = time.Second

// Logs reads every node's recent lines from its health port (the last
// f.Lines of each, merged by time) and, with f.Follow, then every new
// line until ctx ends, reconnecting to nodes that restart.
func (b *Backend) Logs(ctx context.Context, name string, f backend.LogFilter) (<-chan backend.LogLine, error) {
	c, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	var ns []node
	for _, n := range nodes(v) {
		if f.Machine == "" || f.Machine == n.name {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("cluster %s has no member %q: see `pgtui status -a %s`", name, f.Machine, name)
	}
	lines := f.Lines
	if lines <= 0 {
		lines = 100
	}
	out := make(chan backend.LogLine, 256)
	go func() {
		defer close(out)
		send := func(l backend.LogLine) bool {
			select {
			case out <- l:
				return true
			case <-ctx.Done():
				return false
			}
		}
		started := time.Now().UTC()
		last := make([]uint64, len(ns))
		var past []backend.LogLine
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, n := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var got []backend.LogLine
				seq, err := c.readLogs(ctx, n, url.Values{"lines": {strconv.Itoa(lines)}}, func(l backend.LogLine, _ time.Time) bool {
					got = append(got, l)
					return true
				})
				if err != nil {
					got = append(got, unreachableLine(n, err))
				}
				mu.Lock()
				past, last[i] = append(past, got...), seq
				mu.Unlock()
			}()
		}
		wg.Wait()
		sort.SliceStable(past, func(i, j int) bool { return past[i].Time.Before(past[j].Time) })
		for _, l := range past {
			if !send(l) {
				return
			}
		}
		if !f.Follow {
			return
		}
		for i, n := range ns {
			wg.Add(1)
			go func() { defer wg.Done(); c.follow(ctx, n, last[i], started, send) }()
		}
		wg.Wait()
	}()
	return out, nil
}

// follow streams a node's new lines after seq (or, when none was read,
// since started); when the stream breaks it reconnects each followRetry,
// asking for the lines since the last one seen (a restarted node numbers
// its lines afresh).
func (c *conn) follow(ctx context.Context, n node, seq uint64, started time.Time, send func(backend.LogLine) bool) {
	q := url.Values{"follow": {"1"}, "lines": {"0"}, "after": {strconv.FormatUint(seq, 10)}}
	if seq == 0 {
		q = url.Values{"follow": {"1"}, "lines": {"0"}, "since": {started.Format(time.RFC3339Nano)}}
	}
	lastTime := started
	for ctx.Err() == nil {
		_, _ = c.readLogs(ctx, n, q, func(l backend.LogLine, at time.Time) bool {
			lastTime = at
			return send(l)
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(followRetry):
		}
		q = url.Values{"follow": {"1"}, "lines": {"0"}, "since": {lastTime.Add(time.Nanosecond).Format(time.RFC3339Nano)}}
	}
}

// readLogs GETs a node's /logs with q and hands each line on until the
// stream ends or each returns false; it returns the last sequence number.
// each also gets the time the node's ring took the line in, which since=
// compares with.
func (c *conn) readLogs(ctx context.Context, n node, q url.Values, each func(backend.LogLine, time.Time) bool) (uint64, error) {
	if n.info == nil {
		return 0, fmt.Errorf("node %s never published its address", n.name)
	}
	u := "http://" + n.healthAddr() + "/logs?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	nodeapi.SetAuth(req, c.token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("no answer on %s: %s", n.healthAddr(), nodeclient.Cause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %s", n.healthAddr(), resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var seq uint64
	for sc.Scan() {
		var e nodeapi.LogEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		seq = e.Seq
		l := nodeclient.ParseLogLine(e.Line)
		l.Machine, l.Region = n.name, n.host()
		if l.Time.IsZero() {
			l.Time = e.Time
		}
		if !each(l, e.Time) {
			return seq, ctx.Err()
		}
	}
	return seq, sc.Err()
}

func unreachableLine(n node, err error) backend.LogLine {
	return backend.LogLine{Time: time.Now().UTC(), Machine: n.name, Region: n.host(), Proc: "pgtui", Level: "warn",
		Message: "logs unavailable: " + err.Error()}
}
