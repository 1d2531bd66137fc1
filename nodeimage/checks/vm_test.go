package checks

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"
)

// fakeHost serves fixed /proc contents and one file system size.
type fakeHost struct {
	files map[string]string
	errs  map[string]error
	disk  Disk
}

func (h fakeHost) ReadFile(name string) ([]byte, error) {
	if err := h.errs[name]; err != nil {
		return nil, err
	}
	s, ok := h.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

func (h fakeHost) Statfs(path string) (Disk, error) {
	if h.disk.Total == 0 {
		return Disk{}, fmt.Errorf("statfs %s: %w", path, syscall.ENOENT)
	}
	return h.disk, nil
}

func psi(avg10, avg60 float64) string {
	return fmt.Sprintf("some avg10=%.2f avg60=%.2f avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", avg10, avg60)
}

func seedHost() fakeHost {
	gb := 20.53
	avail := uint64(gb * (1 << 30))
	return fakeHost{
		files: map[string]string{
			"/proc/loadavg":         "0.29 0.35 0.50 3/171 9179\n",
			"/proc/pressure/cpu":    "some avg10=3.19 avg60=14.33 avg300=10.00 total=841721092\n", // no full line: kernels before 5.13
			"/proc/pressure/memory": psi(0.5, 1.5),
			"/proc/pressure/io":     psi(0, 0),
		},
		disk: Disk{Total: uint64(float64(avail) / 0.839), Avail: avail},
	}
}

func TestCheckVM(t *testing.T) {
	h := seedHost()
	c := VM(h, "/data", Thresholds{})
	want := []string{
		"[✓] 20.53 GB (83.9%) free space on /data/",
		"[✓] load averages: 0.29 0.35 0.50",
		"[✓] memory: 0.9s waiting over the last 60s",
		"[✓] cpu: 8.6s waiting over the last 60s",
		"[✓] io: 0.0s waiting over the last 60s",
	}
	if c.Name != "vm" || c.Status != Passing || !slices.Equal(c.Text(), want) {
		t.Fatalf("got %s %q\nwant %q", c.Status, c.Text(), want)
	}

	// The seed's failing check: failures first, then the rest in order.
	h.files["/proc/pressure/cpu"] = psi(91, 30)
	h.files["/proc/pressure/memory"] = psi(63, 2)
	c = VM(h, "/data", Thresholds{})
	want = []string{
		"[✗] system spent 6.3 of the last 10 seconds waiting for memory",
		"[✗] system spent 9.1 of the last 10 seconds waiting for cpu",
		"[✓] 20.53 GB (83.9%) free space on /data/",
		"[✓] load averages: 0.29 0.35 0.50",
		"[✓] io: 0.0s waiting over the last 60s",
	}
	if c.Status != Critical || !slices.Equal(c.Text(), want) {
		t.Fatalf("got %s %q\nwant %q", c.Status, c.Text(), want)
	}
	// Thresholds are configurable.
	if c := VM(h, "/data", Thresholds{CPUWait: 9500 * time.Millisecond, MemoryWait: 7 * time.Second}); c.Status != Passing {
		t.Fatalf("raised thresholds: %s %q", c.Status, c.Text())
	}
	if c := VM(h, "/data", Thresholds{CPUWait: 10 * time.Second, MemoryWait: 10 * time.Second, MinFreePercent: 90}); c.Status != Critical ||
		c.Text()[0] != "[✗] 20.53 GB (83.9%) free space on /data/" {
		t.Fatalf("free space threshold: %s %q", c.Status, c.Text())
	}
}

// A kernel without /proc/pressure: say so, invent no figure, pass.
func TestCheckVMWithoutPressure(t *testing.T) {
	h := seedHost()
	for _, n := range []string{"cpu", "memory", "io"} {
		delete(h.files, "/proc/pressure/"+n)
	}
	h.errs = map[string]error{"/proc/pressure/io": &fs.PathError{Op: "read", Path: "/proc/pressure/io", Err: syscall.EOPNOTSUPP}}
	c := VM(h, "/data/", Thresholds{})
	want := []string{
		"[✓] 20.53 GB (83.9%) free space on /data/",
		"[✓] load averages: 0.29 0.35 0.50",
		"[✓] memory pressure: not available (no /proc/pressure on this kernel)",
		"[✓] cpu pressure: not available (no /proc/pressure on this kernel)",
		"[✓] io pressure: not available (pressure stall information is disabled on this kernel)",
	}
	if c.Status != Passing || !slices.Equal(c.Text(), want) {
		t.Fatalf("got %s %q\nwant %q", c.Status, c.Text(), want)
	}
}

func TestCheckVMUnreadable(t *testing.T) {
	h := seedHost()
	h.files["/proc/loadavg"] = "garbage"
	h.files["/proc/pressure/cpu"] = "some avg10=x avg60=1 avg300=1 total=1\n"
	h.disk = Disk{}
	c := VM(h, "/gone", Thresholds{})
	want := []string{
		"[✗] free space on /gone/: unknown (statfs /gone: no such file or directory)",
		`[✗] load averages: unknown (parse /proc/loadavg "garbage": want 3 figures)`,
		`[✗] cpu pressure: unknown (parse pressure "avg10=x": strconv.ParseFloat: parsing "x": invalid syntax)`,
		"[✓] memory: 0.9s waiting over the last 60s",
		"[✓] io: 0.0s waiting over the last 60s",
	}
	if c.Status != Critical || !slices.Equal(c.Text(), want) {
		t.Fatalf("got %s %q\nwant %q", c.Status, c.Text(), want)
	}
}

func TestCheckParsePressure(t *testing.T) {
	p, err := ParsePressure([]byte("some avg10=34.02 avg60=27.91 avg300=37.40 total=841721092\n"))
	if err != nil || p != (Pressure{34.02, 27.91, 37.40}) {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{"", "full avg10=1 avg60=1 avg300=1 total=1\n", "some avg10=1 total=1\n"} {
		if _, err := ParsePressure([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The real /proc and statfs of this machine: only the format is checked.
func TestCheckVMOnThisMachine(t *testing.T) {
	dir := t.TempDir()
	c := VM(OSHost{}, dir, Thresholds{})
	figure := `\d+\.\d`
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`^\[[✓✗]\] (\d+ B|\d+\.\d\d [KMGTPE]B) \(\d+\.\d%\) free space on ` + regexp.QuoteMeta(dir) + `/$`),
		regexp.MustCompile(`^\[✓\] load averages: \d+\.\d\d \d+\.\d\d \d+\.\d\d$`),
		regexp.MustCompile(`^\[✓\] (cpu|memory|io): ` + figure + `s waiting over the last 60s$`),
		regexp.MustCompile(`^\[✗\] system spent ` + figure + ` of the last 10 seconds waiting for (cpu|memory|io)$`),
		regexp.MustCompile(`^\[✓\] (cpu|memory|io) pressure: not available \(.+\)$`),
	}
	lines := c.Text()
	if len(lines) != 5 {
		t.Fatalf("want 5 lines, got %q", lines)
	}
	for _, l := range lines {
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(l) }) {
			t.Errorf("line in no known format: %q", l)
		}
	}
	if c.Status == Warning { // a figure that could not be read
		t.Errorf("status %s: %q", c.Status, lines)
	}
	t.Logf("vm check on this machine: %s %q", c.Status, lines)
}
