package timeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

// line is a log line as the backend delivers it: the node's message with
// its attributes appended.
func line(ms int, machine, proc, msg string) backend.LogLine {
	return backend.LogLine{Time: vt.Now().Add(time.Duration(ms) * time.Millisecond), Machine: machine, Proc: proc, Level: "info", Message: msg}
}

// TestParseLine maps the nodes' real messages (nodeimage/sentinel,
// keeper and proxy, as the agent appends their attributes) to facts.
func TestParseLine(t *testing.T) {
	at := vt.Now()
	for _, tc := range []struct {
		name string
		in   backend.LogLine
		want fact
		ok   bool
	}{
		{"failover decision, reason verbatim",
			line(0, "0e286f3c", "sentinel", "leader a is gone (lease expired); promoting b kind=failover generation=4"),
			fact{kind: factDecision, at: at, machine: "0e286f3c", event: "failover", detail: "leader a is gone (lease expired); promoting b"}, true},
		{"failover decision with a parenthesised reason",
			line(0, "0e286f3c", "sentinel", "leader 6b97fa06 is gone (lease expired); promoting da8141e7 (most WAL: 50331744) in generation 2 kind=failover generation=2"),
			fact{kind: factDecision, at: at, machine: "0e286f3c", event: "failover", detail: "leader 6b97fa06 is gone (lease expired); promoting da8141e7 (most WAL: 50331744) in generation 2"}, true},
		{"switchover stop",
			line(0, "n3", "sentinel", "switchover: stopping leader n1 cleanly before promoting n2 kind=switchover generation=3"),
			fact{kind: factDecision, at: at, machine: "n3", event: "switchover", detail: "switchover: stopping leader n1 cleanly before promoting n2"}, true},
		{"switchover promote",
			line(0, "n3", "sentinel", "switchover: n1 stopped cleanly and n2 has all its WAL; promoting n2 in generation 4 kind=switchover generation=4"),
			fact{kind: factDecision, at: at, machine: "n3", event: "switchover", detail: "switchover: n1 stopped cleanly and n2 has all its WAL; promoting n2 in generation 4"}, true},
		{"sync decision",
			line(0, "n3", "sentinel", "sync standby: b1a3b15e chosen; the leader will wait for it kind=sync generation=5"),
			fact{kind: factDecision, at: at, machine: "n3", event: "sync", detail: "sync standby: b1a3b15e chosen; the leader will wait for it"}, true},
		{"member decision: any kind is an event",
			line(0, "n3", "sentinel", "member n4 joined; it replicates from n1 kind=member generation=5"),
			fact{kind: factDecision, at: at, machine: "n3", event: "member", detail: "member n4 joined; it replicates from n1"}, true},
		{"sentinel election",
			line(0, "n2", "sentinel", "elected sentinel leader"),
			fact{kind: factElected, at: at, machine: "n2"}, true},
		{"sentinel line without kind is no decision",
			line(0, "n2", "sentinel", "decide err=context deadline exceeded"), fact{}, false},
		{"keeper promoting",
			line(0, "n2", "keeper", "promoting generation=4"),
			fact{kind: factPromoted, at: at, machine: "n2", gen: 4}, true},
		{"keeper starting as primary",
			line(0, "n1", "keeper", "starting as primary generation=1"),
			fact{kind: factPrimary, at: at, machine: "n1", gen: 1}, true},
		{"keeper starting as replica",
			line(0, "n1", "keeper", "starting as replica leader=n2 generation=5"),
			fact{kind: factReplica, at: at, machine: "n1", leader: "n2"}, true},
		{"keeper rewinding",
			line(0, "n1", "keeper", "rewinding to the leader's timeline leader=n2"),
			fact{kind: factReplica, at: at, machine: "n1", leader: "n2"}, true},
		{"keeper clean stop is no event",
			line(0, "n1", "keeper", "switchover: stopped cleanly wal=0/3000060"), fact{}, false},
		{"proxy switched to a leader",
			line(0, "n1", "proxy", "proxy switched generation=5 addr=127.26.5.2:41643 from_generation=4 from_addr= closed=2 unfenced=false"),
			fact{kind: factProxy, at: at, machine: "n1", gen: 5, addr: "127.26.5.2:41643"}, true},
		{"proxy holding clients without a leader",
			line(0, "n1", "proxy", "proxy switched generation=5 addr= from_generation=4 from_addr=127.26.5.1:41643 closed=2 unfenced=false"), fact{}, false},
		{"proxy fenced",
			line(0, "n1", "proxy", "proxy fenced reason=switchover generation=4 closed=3"), fact{}, false},
		{"postgres says kind= but is no sentinel",
			line(0, "n1", "postgres", "checkpoint complete kind=failover"), fact{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseLine(tc.in)
			if ok != tc.ok || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Fatalf("parseLine(%q)\n got %+v, %v\nwant %+v, %v", tc.in.Message, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestLogFactsInContext: sentinel decisions and promotions are events as
// they are; a start as replica is a rejoin only on a machine that led
// (once, though it logs rewinding and starting); every node's proxy
// switch of a generation is one event; events stay in time order.
func TestLogFactsInContext(t *testing.T) {
	var tr tracker
	tr.observe(status("6b97fa06", 3, "da8141e7"), vt.Now())
	for _, l := range []backend.LogLine{
		line(2300, "da8141e7", "keeper", "starting as replica leader=6b97fa06 generation=3"), // a replica restarting: no rejoin
		line(2000, "da8141e7", "sentinel", "leader 6b97fa06 is gone (lease expired); promoting 0e286f3c (most WAL: 7) in generation 4 kind=failover generation=4"),
		line(2100, "0e286f3c", "keeper", "promoting generation=4"),
		line(2210, "da8141e7", "proxy", "proxy switched generation=4 addr=127.0.1.4:5433 from_generation=3 from_addr= closed=1 unfenced=false"),
		line(2200, "0e286f3c", "proxy", "proxy switched generation=4 addr=127.0.1.4:5433 from_generation=3 from_addr= closed=0 unfenced=false"),
		line(2220, "0e286f3c", "proxy", "proxy switched generation=4 addr=127.0.1.4:5433 from_generation=4 from_addr=127.0.1.4:5433 closed=0 unfenced=false"), // same node again
		line(9000, "6b97fa06", "keeper", "rewinding to the leader's timeline leader=0e286f3c"),
		line(9500, "6b97fa06", "keeper", "starting as replica leader=0e286f3c generation=4"),
		line(9600, "6b97fa06", "proxy", "proxy switched generation=4 addr=127.0.1.4:5433 from_generation=0 from_addr= closed=0 unfenced=false"),
		line(9700, "6b97fa06", "postgres", "database system is ready to accept read-only connections"),
	} {
		if f, ok := parseLine(l); ok {
			tr.apply(f)
		}
	}
	var got []string
	for _, ev := range tr.events {
		got = append(got, fmt.Sprintf("%s %s: %s", ev.at.Sub(vt.Now()), ev.kind, ev.detail))
	}
	want := []string{
		"0s observed: leader 6b97fa06, generation 3, sync standby da8141e7",
		"2s failover: leader 6b97fa06 is gone (lease expired); promoting 0e286f3c (most WAL: 7) in generation 4",
		"2.1s promoted: 0e286f3c promoted to leader (generation 4)",
		"2.2s proxy switched: 3 proxies -> 0e286f3c (generation 4)",
		"9s rejoined: 6b97fa06 rejoined as replica of 0e286f3c",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Before any poll placed the machines, the generation's promoted
	// keeper names the target; failing that, the address does.
	var fresh tracker
	for _, l := range []backend.LogLine{
		line(0, "n2", "keeper", "promoting generation=7"),
		line(10, "n1", "proxy", "proxy switched generation=7 addr=10.0.0.2:5433 from_generation=6 from_addr= closed=0 unfenced=false"),
		line(20, "n1", "proxy", "proxy switched generation=8 addr=10.0.0.3:5433 from_generation=7 from_addr= closed=0 unfenced=false"),
	} {
		if f, ok := parseLine(l); ok {
			fresh.apply(f)
		}
	}
	if got := fresh.events[1].detail + "; " + fresh.events[2].detail; got != "1 proxy -> n2 (generation 7); 1 proxy -> 10.0.0.3:5433 (generation 8)" {
		t.Fatalf("targets: %s", got)
	}
}

func TestSplitAttrs(t *testing.T) {
	for _, tc := range []struct{ in, text, attrs string }{
		{"promoting generation=4", "promoting", "map[generation:4]"},
		{"no attributes here", "no attributes here", "map[]"},
		{"a=b", "a=b", "map[]"}, // a message is never only attributes
		{"x a=1 a=2", "x", "map[a:2]"},
		{"held addr= closed=0", "held", "map[addr: closed:0]"},
		{"ratio is 1=1 Kind=x", "ratio is 1=1 Kind=x", "map[]"},
	} {
		text, attrs := splitAttrs(tc.in)
		if text != tc.text || fmt.Sprint(attrs) != tc.attrs {
			t.Errorf("splitAttrs(%q) = %q, %v; want %q, %s", tc.in, text, attrs, tc.text, tc.attrs)
		}
	}
}
