package nodeimage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/nodeimage/logring"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

func logsServer(t *testing.T, ring *logring.Ring, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(nodeapi.Require(token, logsHandler(ring)))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		nodeapi.SetAuth(req, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestLogsNeedTheToken: no token or a wrong one is 401; the cluster's
// token (derived from its admin secret) is 200.
func TestLogsNeedTheToken(t *testing.T) {
	token := nodeapi.Token("c1", "admin-secret")
	if token == nodeapi.Token("c2", "admin-secret") || token == nodeapi.Token("c1", "other") {
		t.Fatal("token does not depend on cluster and secret")
	}
	srv := logsServer(t, logring.New(10), token)
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {nodeapi.Token("c2", "admin-secret"), 401}, {token, 200}} {
		resp := get(t, context.Background(), srv.URL+"/logs", tc.token)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q: status %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
}

// TestLogsPastAndFollow: past lines come first (the newest `lines`), then
// a follower receives a line written after it opened, and the ring stays
// bounded.
func TestLogsPastAndFollow(t *testing.T) {
	ring := logring.New(5)
	for i := range 8 {
		fmt.Fprintf(ring, "time=x level=INFO msg=\"line %d\" proc=keeper\n", i)
	}
	token := nodeapi.Token("c1", "pw")
	srv := logsServer(t, ring, token)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp := get(t, ctx, srv.URL+"/logs?lines=2&follow=1", token)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() nodeapi.LogEntry {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		var e nodeapi.LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, want := range []string{"line 6", "line 7"} {
		if e := next(); !strings.Contains(e.Line, want) {
			t.Fatalf("past line %q, want %q", e.Line, want)
		}
	}
	fmt.Fprintf(ring, "proc=postgres node=n1 written after the follower opened\n")
	if e := next(); !strings.Contains(e.Line, "written after") {
		t.Fatalf("followed line %q", e.Line)
	}
	if past, _ := ring.After(0, time.Time{}, 0); len(past) != 5 {
		t.Fatalf("ring holds %d lines, want its bound 5", len(past))
	}
}

// TestLogsSinceAndText: since= selects by time, format=text gives raw
// lines; a bad since is 400.
func TestLogsSinceAndText(t *testing.T) {
	ring := logring.New(10)
	fmt.Fprintln(ring, "old line")
	token := nodeapi.Token("c1", "pw")
	srv := logsServer(t, ring, token)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resp := get(t, context.Background(), srv.URL+"/logs?format=text&since="+future, token)
	b := make([]byte, 100)
	n, _ := resp.Body.Read(b)
	resp.Body.Close()
	if n != 0 {
		t.Fatalf("since the future: got %q", b[:n])
	}
	resp = get(t, context.Background(), srv.URL+"/logs?format=text&since=1h", token)
	n, _ = resp.Body.Read(b)
	resp.Body.Close()
	if string(b[:n]) != "old line\n" {
		t.Fatalf("text: %q", b[:n])
	}
	resp = get(t, context.Background(), srv.URL+"/logs?since=yesterday", token)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad since: %d", resp.StatusCode)
	}
}
