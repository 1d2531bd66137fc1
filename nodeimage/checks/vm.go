package checks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Host reads the machine's state; OSHost reads the real one and tests
// pass fixed contents.
type Host interface {
	// ReadFile reads a file such as /proc/loadavg or /proc/pressure/cpu.
	ReadFile(name string) ([]byte, error)
	// Statfs reports the size of the file system holding path.
	Statfs(path string) (Disk, error)
}

// Disk is a file system's size and the space unprivileged users may
// still use, in bytes (df's Size and Avail).
type Disk struct {
	Total, Avail uint64
}

// OSHost reads /proc and calls statfs(2).
type OSHost struct{}

// ReadFile reads name from the real file system.
func (OSHost) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Statfs calls statfs(2) on path.
func (OSHost) Statfs(path string) (Disk, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Disk{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	unit := uint64(st.Frsize) // block counts are in fragment units
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	return Disk{Total: st.Blocks * unit, Avail: st.Bavail * unit}, nil
}

// Thresholds turn figures into failures. Zero fields take the defaults.
type Thresholds struct {
	// CPUWait, MemoryWait, IOWait: critical when the system spent more
	// than this of the last 10 seconds stalled on the resource (the
	// `some` line of /proc/pressure). Defaults 8s, 5s, 5s.
	CPUWait, MemoryWait, IOWait time.Duration
	// MinFreePercent: critical below this much free space on the volume
	// (default 10).
	MinFreePercent float64
	// MaxLag: a replica further behind is critical (default 10s).
	MaxLag time.Duration
}

// DefaultThresholds are the values zero fields take.
func DefaultThresholds() Thresholds {
	return Thresholds{CPUWait: 8 * time.Second, MemoryWait: 5 * time.Second, IOWait: 5 * time.Second,
		MinFreePercent: 10, MaxLag: 10 * time.Second}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	if t.CPUWait <= 0 {
		t.CPUWait = d.CPUWait
	}
	if t.MemoryWait <= 0 {
		t.MemoryWait = d.MemoryWait
	}
	if t.IOWait <= 0 {
		t.IOWait = d.IOWait
	}
	if t.MinFreePercent <= 0 {
		t.MinFreePercent = d.MinFreePercent
	}
	if t.MaxLag <= 0 {
		t.MaxLag = d.MaxLag
	}
	return t
}

// VM is the `vm` check: free space on the volume at dir, load averages,
// then memory, cpu and io pressure, in Fly's order.
func VM(h Host, dir string, th Thresholds) Check {
	th = th.withDefaults()
	rs := []result{diskResult(h, dir, th.MinFreePercent), loadResult(h)}
	for _, p := range []struct {
		name  string
		limit time.Duration
	}{{"memory", th.MemoryWait}, {"cpu", th.CPUWait}, {"io", th.IOWait}} {
		rs = append(rs, pressureResult(h, p.name, p.limit))
	}
	return build("vm", rs)
}

func diskResult(h Host, dir string, minFree float64) result {
	d, err := h.Statfs(dir)
	if err != nil {
		return fail(Critical, "free space on %s: unknown (%v)", withSlash(dir), err)
	}
	return formatDisk(dir, d, minFree)
}

// formatDisk: "20.53 GB (83.9%) free space on /data/".
func formatDisk(dir string, d Disk, minFree float64) result {
	if d.Total == 0 {
		return fail(Warning, "free space on %s: unknown (file system reports size 0)", withSlash(dir))
	}
	perc := float64(d.Avail) / float64(d.Total) * 100
	text := fmt.Sprintf("%s (%.1f%%) free space on %s", FormatBytes(d.Avail), perc, withSlash(dir))
	if perc < minFree {
		return fail(Critical, "%s", text)
	}
	return pass("%s", text)
}

func withSlash(dir string) string {
	if strings.HasSuffix(dir, "/") {
		return dir
	}
	return dir + "/"
}

// FormatBytes prints a size in binary units with two decimals, as Fly's
// check does: "20.53 GB".
func FormatBytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

func loadResult(h Host) result {
	b, err := h.ReadFile("/proc/loadavg")
	if err != nil {
		return fail(Warning, "load averages: unknown (%v)", err)
	}
	l, err := ParseLoad(b)
	if err != nil {
		return fail(Warning, "load averages: unknown (%v)", err)
	}
	return formatLoad(l)
}

// formatLoad: "load averages: 0.29 0.35 0.50".
func formatLoad(l [3]float64) result {
	return pass("load averages: %.2f %.2f %.2f", l[0], l[1], l[2])
}

// ParseLoad reads the 1, 5 and 15 minute load averages of /proc/loadavg.
func ParseLoad(b []byte) ([3]float64, error) {
	var l [3]float64
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return l, fmt.Errorf("parse /proc/loadavg %q: want 3 figures", strings.TrimSpace(string(b)))
	}
	for i := range l {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return l, fmt.Errorf("parse /proc/loadavg: %w", err)
		}
		l[i] = v
	}
	return l, nil
}

// Pressure is the `some` line of a /proc/pressure file: the share (in
// percent) of the last 10, 60 and 300 seconds in which at least one task
// was stalled on the resource.
type Pressure struct {
	Avg10, Avg60, Avg300 float64
}

// ParsePressure reads the `some` line of /proc/pressure/{cpu,memory,io}.
func ParsePressure(b []byte) (Pressure, error) {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		var p Pressure
		seen := 0
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var dst *float64
			switch k {
			case "avg10":
				dst = &p.Avg10
			case "avg60":
				dst = &p.Avg60
			case "avg300":
				dst = &p.Avg300
			default:
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return Pressure{}, fmt.Errorf("parse pressure %q: %w", kv, err)
			}
			*dst = x
			seen++
		}
		if seen != 3 {
			return Pressure{}, fmt.Errorf("parse pressure %q: want avg10, avg60 and avg300", strings.TrimSpace(line))
		}
		return p, nil
	}
	return Pressure{}, errors.New("parse pressure: no `some` line")
}

func pressureResult(h Host, name string, limit time.Duration) result {
	b, err := h.ReadFile("/proc/pressure/" + name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return pass("%s pressure: not available (no /proc/pressure on this kernel)", name)
	case errors.Is(err, syscall.EOPNOTSUPP):
		return pass("%s pressure: not available (pressure stall information is disabled on this kernel)", name)
	case err != nil:
		return fail(Warning, "%s pressure: unknown (%v)", name, err)
	}
	p, err := ParsePressure(b)
	if err != nil {
		return fail(Warning, "%s pressure: unknown (%v)", name, err)
	}
	return formatPressure(name, p, limit)
}

// formatPressure: "memory: 0.9s waiting over the last 60s" when fine,
// "system spent 6.3 of the last 10 seconds waiting for memory" when the
// stall over the last 10 seconds exceeds limit.
func formatPressure(name string, p Pressure, limit time.Duration) result {
	spent10 := p.Avg10 * 10 / 100
	if spent10 > limit.Seconds() {
		return fail(Critical, "system spent %.1f of the last 10 seconds waiting for %s", spent10, name)
	}
	return pass("%s: %.1fs waiting over the last 60s", name, p.Avg60*60/100)
}
