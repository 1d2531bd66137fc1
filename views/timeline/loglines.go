package timeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// factKind says what a node log line tells the timeline.
type factKind int

const (
	factDecision factKind = iota + 1 // a sentinel decision: an event as it is
	factElected                      // a sentinel won the election
	factPromoted                     // a keeper promotes its replica
	factPrimary                      // a keeper starts postgres as leader
	factReplica                      // a keeper (re)starts as replica: a rejoin if it led before
	factProxy                        // a proxy now routes to a leader
)

// fact is what one log line says, before the tracker puts it in context
// (whether the machine led before, how many proxies already switched).
type fact struct {
	kind    factKind
	at      time.Time
	machine string
	event   string // factDecision: the sentinel's kind= (failover, switchover, sync, …)
	detail  string // factDecision: the sentinel's reason, verbatim
	leader  string // factReplica: the machine it follows
	gen     int64  // factPromoted, factPrimary, factProxy
	addr    string // factProxy: the leader's address, never ""
}

// parseLine maps a node log line to a fact, or reports that the line
// says nothing the timeline shows. The nodes log with slog and the
// backend appends a line's attributes to its message as " key=value",
// so they are read back from the message's end.
func parseLine(l backend.LogLine) (fact, bool) {
	text, attrs := splitAttrs(l.Message)
	f := fact{at: l.Time, machine: l.Machine}
	gen, _ := strconv.ParseInt(attrs["generation"], 10, 64)
	switch l.Proc {
	case "sentinel":
		if kind := attrs["kind"]; kind != "" {
			f.kind, f.event, f.detail = factDecision, kind, text
			return f, true
		}
		if text == "elected sentinel leader" {
			f.kind = factElected
			return f, true
		}
	case "keeper":
		switch {
		case text == "promoting":
			f.kind, f.gen = factPromoted, gen
			return f, true
		case text == "starting as primary":
			f.kind, f.gen = factPrimary, gen
			return f, true
		case text == "starting as replica" || strings.HasPrefix(text, "rewinding to the leader"):
			if attrs["leader"] != "" {
				f.kind, f.leader = factReplica, attrs["leader"]
				return f, true
			}
		}
	case "proxy":
		// An empty address is a proxy holding clients while there is no
		// leader to route to: not a switch to anyone.
		if text == "proxy switched" && attrs["addr"] != "" {
			f.kind, f.gen, f.addr = factProxy, gen, attrs["addr"]
			return f, true
		}
	}
	return fact{}, false
}

// splitAttrs takes the trailing key=value words off a message. A word
// is an attribute when its key is a lower-case identifier; the walk
// stops at the first word that is not, so a reason's own words stay in
// the text. Values with spaces (an error) end the walk early: the lines
// the timeline reads carry none.
func splitAttrs(msg string) (string, map[string]string) {
	attrs := map[string]string{}
	text := strings.TrimRight(msg, " ")
	for {
		i := strings.LastIndexByte(text, ' ')
		if i < 0 {
			return text, attrs
		}
		key, val, ok := strings.Cut(text[i+1:], "=")
		if !ok || !isKey(key) {
			return text, attrs
		}
		if _, dup := attrs[key]; !dup { // the last one logged wins, as in slog
			attrs[key] = val
		}
		text = strings.TrimRight(text[:i], " ")
	}
}

func isKey(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// proxyDetail is the one event of a generation's proxy switches.
func proxyDetail(n int, target string, gen int64) string {
	noun := "proxies"
	if n == 1 {
		noun = "proxy"
	}
	return fmt.Sprintf("%d %s -> %s (generation %d)", n, noun, target, gen)
}
