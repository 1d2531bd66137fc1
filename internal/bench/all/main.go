// Command all runs the benchmark programs one after another (never side
// by side: each measures against a baseline taken in its own run, and two
// at once would load each other), shows their output as it comes, and
// writes what they printed to docs/BENCHMARKS.md with the date, commit
// and machine. Run by `make bench`.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// programs are internal/bench/<name>, in the order they run.
func programs() []string {
	return []string{"failover", "create", "proxy", "tunnel", "checks", "cockpit", "soak", "peers"}
}

func main() {
	run := flag.String("run", strings.Join(programs(), ","), "comma-separated benchmarks to run, from "+strings.Join(programs(), ","))
	out := flag.String("out", "docs/BENCHMARKS.md", "file to write the report to (empty: none)")
	flag.Parse()
	names, err := pick(*run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchAll(ctx, names, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func pick(list string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(programs(), n) {
			return nil, fmt.Errorf("no benchmark %q: use -run with names from %s", n, strings.Join(programs(), ","))
		}
		names = append(names, n)
	}
	return names, nil
}

// section is one program's printed report.
type section struct {
	name   string
	output string
	took   time.Duration
	err    error
}

func benchAll(ctx context.Context, names []string, out string) error {
	// The header names the tree as the run starts. Each program is built
	// when its turn comes, so the tree must not change during a run.
	start, load, rev := time.Now().UTC(), loadAverage(), commit()
	var sections []section
	var failed []string
	for _, n := range names {
		s := runOne(ctx, n)
		sections = append(sections, s)
		if s.err != nil {
			failed = append(failed, n)
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", n, s.err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(report(start, load, rev, sections)), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		fmt.Printf("\nwrote %s\n", out)
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return ctx.Err()
}

// runOne runs `go run ./internal/bench/<name>`, its stdout shown and kept,
// its progress (stderr) shown only.
func runOne(ctx context.Context, name string) section {
	fmt.Printf("\n==> %s\n", name)
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "run", "./internal/bench/"+name)
	cmd.Stdout = io.MultiWriter(os.Stdout, &buf)
	cmd.Stderr = os.Stderr
	// Interrupt, not kill, so the program stops the clusters it started.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	t0 := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = fmt.Errorf("exit status %d", exit.ExitCode())
	}
	return section{name: name, output: strings.TrimSpace(buf.String()), took: time.Since(t0), err: err}
}

func report(start time.Time, load, rev string, sections []section) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (internal/bench/all) on %s, commit %s,\n", start.Format("2006-01-02 15:04 UTC"), rev)
	fmt.Fprintf(&b, "on %d cores, load average %s at the start. Each benchmark measures its\n", runtime.NumCPU(), load)
	b.WriteString("baseline in the same run and prints ratios against it; what each row\n")
	b.WriteString("means and its goal are printed with it. `make soak` runs the soak for\n")
	b.WriteString("10 minutes; `make bench` runs it for BENCH_SOAK_SECONDS (default 120).\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s (`internal/bench/%s`, %s)\n\n", s.name, s.name, s.took.Round(time.Second))
		if s.err != nil {
			fmt.Fprintf(&b, "**Failed: %v.** Output up to the failure:\n\n", s.err)
		}
		b.WriteString("```\n" + s.output + "\n```\n")
	}
	return b.String()
}

func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
