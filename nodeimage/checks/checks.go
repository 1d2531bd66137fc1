// Package checks computes a node's three health checks, in the text that
// Fly's postgres images print: `vm` (cpu, memory and io pressure, free
// space on the volume, load averages), `pg` (replication state and lag,
// connections) and `role` (leader, replica, fenced or starting). The
// readers of /proc, statfs and postgres are injected, so the formatting is
// tested with fixed inputs; Runner evaluates the checks periodically and
// caches the results for the node's health endpoint.
package checks

import (
	"fmt"
	"strings"
	"time"
)

// Status is a check's state, as Consul and flyctl name it.
type Status string

const (
	Passing  Status = "passing"
	Warning  Status = "warning"
	Critical Status = "critical"
)

// rank orders statuses from best to worst.
func (s Status) rank() int {
	switch s {
	case Passing:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Worse returns the worse of two statuses.
func Worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Line is one line of a check's output: "[✓] text" or "[✗] text".
type Line struct {
	OK   bool   `json:"ok"`
	Text string `json:"text"`
}

// String renders the line with its mark.
func (l Line) String() string {
	if l.OK {
		return "[✓] " + l.Text
	}
	return "[✗] " + l.Text
}

// Check is one evaluated check.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Output []Line `json:"output"`
	// Plain: the output is printed without marks (the role check prints
	// just "leader").
	Plain bool `json:"plain,omitempty"`
	// Connections: client connections the pg check counted (nil on other
	// checks and when postgres did not answer), for tables that show it
	// as a number rather than as the output line.
	Connections *int `json:"connections,omitempty"`
	// Updated is when the status or output last changed.
	Updated time.Time `json:"updated"`
}

// Text renders the output lines as flyctl prints them.
func (c Check) Text() []string {
	out := make([]string, len(c.Output))
	for i, l := range c.Output {
		if c.Plain {
			out[i] = l.Text
		} else {
			out[i] = l.String()
		}
	}
	return out
}

// sameResult: status and output equal (Updated is not compared).
func sameResult(a, b Check) bool {
	if a.Name != b.Name || a.Status != b.Status || a.Plain != b.Plain || len(a.Output) != len(b.Output) {
		return false
	}
	for i := range a.Output {
		if a.Output[i] != b.Output[i] {
			return false
		}
	}
	return true
}

// LogLine is the seed's health check log message:
// "[HEALTHCHECK] [vm: failing] [✗] …\n[✓] …\n" (flyctl shows each line
// break as ↩︎).
func (c Check) LogLine() string {
	word := string(c.Status)
	if c.Status == Critical {
		word = "failing"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[HEALTHCHECK] [%s: %s] ", c.Name, word)
	for _, l := range c.Text() {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// result is one line with its own severity.
type result struct {
	line Line
	sev  Status
}

func pass(format string, a ...any) result {
	return result{Line{OK: true, Text: fmt.Sprintf(format, a...)}, Passing}
}

func fail(sev Status, format string, a ...any) result {
	return result{Line{OK: false, Text: fmt.Sprintf(format, a...)}, sev}
}

// build makes a check from its results: failing lines first, each group
// in the order given (as Fly's check suites print them); the status is
// the worst severity.
func build(name string, rs []result) Check {
	c := Check{Name: name, Status: Passing, Output: make([]Line, 0, len(rs))}
	for _, r := range rs {
		c.Status = Worse(c.Status, r.sev)
		if !r.line.OK {
			c.Output = append(c.Output, r.line)
		}
	}
	for _, r := range rs {
		if r.line.OK {
			c.Output = append(c.Output, r.line)
		}
	}
	return c
}

// FormatDuration prints a short duration as the seed does ("246µs"),
// rounded to what is meaningful at its size.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
