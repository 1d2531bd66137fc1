package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLogLinesWithoutTime: a child's output in postgres's log (pgBackRest
// from archive_command) and continuation lines carry no time of their
// own; they take the time of the line before them, or at the start of a
// tail the first one after.
func TestLogLinesWithoutTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	text := "" +
		"                                    HINT: has a stanza-create been performed?\n" +
		"proc=postgres node=n1 2026-12-03 10:11:28.900 UTC [16] LOG:  archive command failed with exit code 103\n" +
		"2026-12-03 10:11:28.918 P00  ERROR: [103]: unable to find a valid repository:\n" +
		"                                    repo1: [FileMissingError] unable to load info file\n" +
		"time=2026-12-03T10:11:29.5Z level=INFO msg=\"lease granted\" node=n1 proc=lease\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	lf := &logFile{path: path, machine: "n1", region: "iad"}
	lines := lf.tail(100)
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5: %+v", len(lines), lines)
	}
	pg := time.Date(2026, 12, 3, 10, 11, 28, 900e6, time.UTC)
	want := []time.Time{pg, pg, pg, pg, time.Date(2026, 12, 3, 10, 11, 29, 500e6, time.UTC)}
	for i, l := range lines {
		if !l.Time.Equal(want[i]) {
			t.Errorf("line %d %q: time %v, want %v", i, l.Message, l.Time, want[i])
		}
	}
	// A line appended later without a time takes the newest time read.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("                                    HINT: is archive_command configured correctly?\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	more := lf.more()
	if len(more) != 1 || !more[0].Time.Equal(want[4]) {
		t.Errorf("appended line: %+v, want time %v", more, want[4])
	}

	// A line being written (no newline yet) is read once it is whole.
	appendText := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	appendText("time=2026-12-03T10:11:30Z level=INFO msg=\"proxy ")
	if got := lf.more(); len(got) != 0 {
		t.Errorf("half a line read: %+v", got)
	}
	appendText("switched\" node=n1 proc=proxy\n")
	if got := lf.more(); len(got) != 1 || got[0].Message != "proxy switched" {
		t.Errorf("the completed line: %+v", got)
	}
}
