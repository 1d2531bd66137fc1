package nodeimage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/nodeimage/logring"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// logsHandler serves GET /logs from the ring:
//
//	since=RFC3339 time or a duration back from now (5m); default: all kept
//	lines=N       at most the newest N past lines (default 100, 0 = all)
//	after=SEQ     only lines numbered after SEQ (a follower resuming)
//	follow=1      then every new line until the client goes away
//	format=text   raw lines instead of NDJSON nodeapi.LogEntry
func logsHandler(ring *logring.Ring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since, err := parseSince(q.Get("since"), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		limit := 100
		if v := q.Get("lines"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
				http.Error(w, fmt.Sprintf("bad lines %q: want a count", v), http.StatusBadRequest)
				return
			}
		}
		var after uint64
		if v := q.Get("after"); v != "" {
			if after, err = strconv.ParseUint(v, 10, 64); err != nil {
				http.Error(w, fmt.Sprintf("bad after %q: want a sequence number", v), http.StatusBadRequest)
				return
			}
		}
		text := q.Get("format") == "text"
		follow := q.Get("follow") == "1"
		// Subscribe before reading, so no line falls between the two.
		var wake <-chan struct{}
		if follow {
			ch, stop := ring.Subscribe()
			defer stop()
			wake = ch
		}
		if text {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		w.WriteHeader(http.StatusOK)
		flusher, _ := w.(http.Flusher)
		enc := json.NewEncoder(w)
		send := func(es []nodeapi.LogEntry) bool {
			for _, e := range es {
				var err error
				if text {
					_, err = fmt.Fprintln(w, e.Line)
				} else {
					err = enc.Encode(e)
				}
				if err != nil {
					return false
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
			return true
		}
		past, last := ring.After(after, since, limit)
		if !send(past) || !follow {
			return
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case <-wake:
			}
			var fresh []nodeapi.LogEntry
			fresh, last = ring.After(last, time.Time{}, 0)
			if !send(fresh) {
				return
			}
		}
	})
}

// parseSince reads an RFC 3339 time or a duration back from now; "" is
// the zero time (everything kept).
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("bad since %q: want an RFC 3339 time or a duration such as 5m", v)
	}
	return now.Add(-d), nil
}
