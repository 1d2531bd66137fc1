package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// DefaultCacheDir holds the cached bases, one directory per cache key.
// PGTUI_IMAGE_CACHE overrides it.
const DefaultCacheDir = "/var/cache/pgtui/image"

// Options of Build. Zero values are filled in from the repository.
type Options struct {
	Root     string    // repository root: go.mod, nodeimage/rootfs.sh, cmd/pgtui
	Out      string    // archive to write (default Root/bin/pgtui-node.oci.tar)
	CacheDir string    // default PGTUI_IMAGE_CACHE or DefaultCacheDir
	Version  string    // label and tag (default `git describe --always --dirty`)
	Revision string    // label (default `git rev-parse HEAD`)
	Created  time.Time // image creation time (default the commit's time)
	Log      io.Writer // progress lines (default os.Stderr)
}

// Result describes a built archive.
type Result struct {
	Archive       string
	Tag           string // the tag in the archive: <version>
	ImageID       string // config digest: what `podman images --no-trunc` shows as the ID
	ArchiveBytes  int64  // the archive on disk (layers compressed)
	UnpackedBytes int64  // the layers unpacked (as `podman images` counts)
	BaseCached    bool   // the base came from the cache
	BaseKey       string
	BaseDir       string     // the cached base: layout/ (tag base), minbase/ (tag minbase), usage.json
	Binary        string     // the static binary, also left at bin/pgtui-static
	Usage         []DirUsage // the unpacked root by directory, largest first
}

// DirUsage is the disk usage of one directory of the image's root.
type DirUsage struct {
	Path  string
	Bytes int64
	File  bool `json:",omitempty"` // a file of bigFile or more, not a directory
}

// Tools are the programs Build needs (Debian packages debootstrap, umoci,
// tar, util-linux).
var Tools = []string{"debootstrap", "umoci", "tar", "unshare", "chroot"}

// Build makes the OCI archive. The base (debootstrap + rootfs.sh, the
// slow part: minutes on a fresh machine) is cached under CacheDir by a key
// of everything it is made from; the rest takes seconds.
func Build(ctx context.Context, o Options) (Result, error) {
	if err := o.fill(ctx); err != nil {
		return Result{}, err
	}
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			return Result{}, fmt.Errorf("image: %s not found (make image-deps installs it): %w", t, err)
		}
	}
	if os.Geteuid() != 0 {
		return Result{}, errors.New("image: building the base needs root (debootstrap, chroot)")
	}
	sources, mirror, err := aptSources()
	if err != nil {
		return Result{}, err
	}
	script, err := os.ReadFile(filepath.Join(o.Root, "nodeimage", "rootfs.sh"))
	if err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	key := cacheKey(script, sources)
	res := Result{Tag: o.Version, BaseKey: key}
	base, cached, err := ensureBase(ctx, o, key, script, sources, mirror)
	if err != nil {
		return Result{}, err
	}
	res.BaseCached, res.BaseDir = cached, base

	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	work, err := os.MkdirTemp(filepath.Dir(o.Out), ".image-")
	if err != nil {
		return Result{}, fmt.Errorf("image: work dir: %w", err)
	}
	defer os.RemoveAll(work)

	bin := filepath.Join(work, "pgtui")
	if err := buildBinary(ctx, o, bin); err != nil {
		return Result{}, err
	}
	appTar := filepath.Join(work, "app.tar")
	if err := writeBinaryLayer(appTar, bin, o.Created); err != nil {
		return Result{}, err
	}
	layout := filepath.Join(work, "layout")
	if err := copyLayout(filepath.Join(base, "layout"), layout); err != nil {
		return Result{}, err
	}
	created := o.Created.UTC().Format(time.RFC3339)
	steps := [][]string{
		{"raw", "add-layer", "--image", layout + ":base", "--tag", o.Version,
			"--history.created", created, "--history.created_by", "COPY pgtui " + BinaryPath, appTar},
		append([]string{"config", "--image", layout + ":" + o.Version,
			"--history.created", created, "--history.created_by", "pgtui node image config"},
			umociConfigArgs(o.Version, o.Revision, created)...),
		{"rm", "--image", layout + ":base"},
		{"gc", "--layout", layout},
	}
	for _, args := range steps {
		if err := run(ctx, o.Log, "", "umoci", args...); err != nil {
			return Result{}, err
		}
	}
	id, err := nameImage(layout, o.Version)
	if err != nil {
		return Result{}, err
	}
	res.ImageID = id
	// Written in the work dir, then renamed into place: a concurrent
	// build (another test process) never sees or mixes a partial archive.
	tmp := filepath.Join(work, "archive.tar")
	if err := tarDir(layout, tmp, o.Created); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	res.Archive = o.Out
	// The binary is also what `docker build --build-arg BINARY=prebuilt`
	// takes (nodeimage/Dockerfile).
	res.Binary = filepath.Join(filepath.Dir(o.Out), "pgtui-static")
	if err := os.Rename(bin, res.Binary); err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	bin = res.Binary
	if fi, err := os.Stat(o.Out); err == nil {
		res.ArchiveBytes = fi.Size()
	}
	res.Usage, err = readUsage(filepath.Join(base, "usage.json"))
	if err != nil {
		return Result{}, err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	res.UnpackedBytes = fi.Size()
	for _, u := range res.Usage {
		if !strings.Contains(strings.TrimPrefix(u.Path, "/"), "/") {
			res.UnpackedBytes += u.Bytes
		}
	}
	return res, nil
}

func (o *Options) fill(ctx context.Context) error {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Root == "" {
		r, err := RepoRoot()
		if err != nil {
			return err
		}
		o.Root = r
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, ArchivePath)
	}
	o.Out, _ = filepath.Abs(o.Out)
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv("PGTUI_IMAGE_CACHE")
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir
	}
	git := func(args ...string) string {
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", o.Root}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if o.Version == "" {
		o.Version = git("describe", "--always", "--dirty")
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Revision == "" {
		o.Revision = git("rev-parse", "HEAD")
	}
	if o.Revision == "" {
		o.Revision = "unknown"
	}
	if o.Created.IsZero() {
		if t, err := time.Parse(time.RFC3339, git("log", "-1", "--format=%cI")); err == nil {
			o.Created = t
		} else {
			o.Created = time.Now()
		}
	}
	return nil
}

// RepoRoot finds the repository root: the nearest directory upwards from
// the working directory with this module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/pgtui/pgtui\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("image: no github.com/pgtui/pgtui go.mod above %s", dir)
		}
	}
}

// aptSources returns this machine's Debian apt sources for Suite (and its
// -updates and -security suites) as a deb822 file for the image, and the
// mirror debootstrap should use.
func aptSources() (string, string, error) {
	type entry struct{ uri, suite string }
	var entries []entry
	add := func(uris, suites []string) {
		for _, u := range uris {
			for _, s := range suites {
				if s == Suite || strings.HasPrefix(s, Suite+"-") {
					entries = append(entries, entry{strings.TrimSuffix(u, "/"), s})
				}
			}
		}
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", "", fmt.Errorf("image: apt sources: %w", err)
		}
		for _, stanza := range strings.Split(string(b), "\n\n") {
			fields := map[string][]string{}
			for _, line := range strings.Split(stanza, "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, " ") {
					fields[strings.ToLower(strings.TrimSpace(k))] = strings.Fields(v)
				}
			}
			if contains(fields["types"], "deb") && contains(fields["components"], "main") {
				add(fields["uris"], fields["suites"])
			}
		}
	}
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append([]string{"/etc/apt/sources.list"}, lists...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 4 || fs[0] != "deb" {
				continue
			}
			fs = fs[1:]
			if strings.HasPrefix(fs[0], "[") { // options
				for len(fs) > 0 && !strings.HasSuffix(fs[0], "]") {
					fs = fs[1:]
				}
				fs = fs[1:]
			}
			if len(fs) >= 3 && contains(fs[2:], "main") {
				add(fs[:1], fs[1:2])
			}
		}
	}
	if len(entries) == 0 {
		return "", "", fmt.Errorf("image: this machine has no apt source for Debian %s main (/etc/apt/sources.list*)", Suite)
	}
	var mirror string
	byURI := map[string][]string{}
	var uris []string
	for _, e := range entries {
		if e.suite == Suite && mirror == "" {
			mirror = e.uri
		}
		if _, ok := byURI[e.uri]; !ok {
			uris = append(uris, e.uri)
		}
		if !contains(byURI[e.uri], e.suite) {
			byURI[e.uri] = append(byURI[e.uri], e.suite)
		}
	}
	if mirror == "" {
		return "", "", fmt.Errorf("image: no apt source for Debian %s itself (only its updates)", Suite)
	}
	var b strings.Builder
	for i, u := range uris {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
			u, strings.Join(byURI[u], " "))
	}
	return b.String(), mirror, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cacheKey covers everything the base is made from.
func cacheKey(script []byte, sources string) string {
	h := sha256.New()
	fmt.Fprintf(h, "suite=%s\nversion=%d\narch=%s\npackages=%s\n", Suite, BaseVersion, runtime.GOARCH, strings.Join(Packages, ","))
	fmt.Fprintf(h, "sources=%s\n", sources)
	h.Write(script)
	return Suite + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ensureBase returns the cache directory of the base (layout/ with the
// base layer tagged "base", usage.json), making it when missing. A lock
// file keeps concurrent builds from making it twice.
func ensureBase(ctx context.Context, o Options, key string, script []byte, sources, mirror string) (string, bool, error) {
	dir := filepath.Join(o.CacheDir, key)
	done := func() bool {
		_, err := os.Stat(filepath.Join(dir, "ok"))
		return err == nil
	}
	defer pruneCache(o, key)
	if done() {
		fmt.Fprintf(o.Log, "image: base %s from the cache (%s)\n", key, dir)
		now := time.Now()
		_ = os.Chtimes(filepath.Join(dir, "ok"), now, now) // last use, for pruneCache
		return dir, true, nil
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return "", false, fmt.Errorf("image: cache: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(o.CacheDir, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", false, fmt.Errorf("image: cache lock: %w", err)
	}
	defer lock.Close()
	if err := flock(ctx, lock); err != nil {
		return "", false, err
	}
	if done() { // made by another build while we waited
		return dir, true, nil
	}
	fmt.Fprintf(o.Log, "image: making base %s: debootstrap --variant=minbase %s from %s, then nodeimage/rootfs.sh (a few minutes; cached in %s)\n",
		key, Suite, mirror, dir)
	tmp := dir + ".tmp"
	if err := removeAll(tmp); err != nil {
		return "", false, err
	}
	defer removeAll(tmp)
	if err := makeBase(ctx, o, tmp, script, sources, mirror); err != nil {
		return "", false, err
	}
	if err := removeAll(dir); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", false, fmt.Errorf("image: cache: %w", err)
	}
	return dir, false, nil
}

// cacheMaxAge is how long a base nobody builds from stays cached.
const cacheMaxAge = 14 * 24 * time.Hour

// pruneCache removes the bases (other than keep) not used for
// cacheMaxAge, skipping any that a build holds locked.
func pruneCache(o Options, keep string) {
	oks, _ := filepath.Glob(filepath.Join(o.CacheDir, "*", "ok"))
	for _, ok := range oks {
		dir := filepath.Dir(ok)
		key := filepath.Base(dir)
		fi, err := os.Stat(ok)
		if key == keep || err != nil || time.Since(fi.ModTime()) < cacheMaxAge {
			continue
		}
		lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			if err := os.RemoveAll(dir); err == nil {
				os.Remove(dir + ".lock")
				fmt.Fprintf(o.Log, "image: removed base %s, unused since %s\n", key, fi.ModTime().UTC().Format(time.DateOnly))
			}
		}
		lock.Close()
	}
}

// flock takes an exclusive lock on f, giving up when ctx ends.
func flock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("image: lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("image: waiting for another build's lock on %s: %w", f.Name(), ctx.Err())
		case <-time.After(200 * time.Millisecond): // poll the lock
		}
	}
}

// makeBase debootstraps a root, runs rootfs.sh in it, records its disk
// usage and packs it as the base layer of an OCI layout in dir.
func makeBase(ctx context.Context, o Options, dir string, script []byte, sources, mirror string) error {
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	start := time.Now()
	// Every mount (debootstrap's /proc, ours) lives in a private mount
	// namespace that ends with the command, so none outlives a failure.
	if err := run(ctx, o.Log, "", "unshare", "--mount", "--propagation", "private",
		"debootstrap", "--variant=minbase", "--components=main", Suite, root, mirror); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "image: debootstrap took %s\n", time.Since(start).Round(time.Second))
	os.Remove(filepath.Join(root, "etc/apt/sources.list"))
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/debian.sources"), []byte(sources), 0o644); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	// The bare minbase root, as an image of its own (tag "minbase"): a
	// stand-in for debian:bookworm-slim where no registry is reachable,
	// to build nodeimage/Dockerfile from (TestDockerfileBuild).
	if err := packMinbase(ctx, o, dir, root); err != nil {
		return err
	}
	files := map[string][]byte{"tmp/rootfs.sh": script}
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		files["etc/resolv.conf"] = b // apt in the chroot resolves the mirror
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			return fmt.Errorf("image: %w", err)
		}
	}
	start = time.Now()
	if err := run(ctx, o.Log, "", "unshare", "--mount", "--propagation", "private", "sh", "-euc",
		`mount -t proc proc "$1/proc"; exec chroot "$1" /bin/sh /tmp/rootfs.sh`, "sh", root); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "image: rootfs.sh took %s\n", time.Since(start).Round(time.Second))
	// The runtime provides these; the image must not carry the build
	// machine's.
	for _, name := range []string{"etc/resolv.conf", "etc/hostname", "tmp/rootfs.sh"} {
		if err := os.Remove(filepath.Join(root, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("image: %w", err)
		}
	}
	for _, name := range []string{"dev", "proc", "sys", "run"} {
		if err := emptyDir(filepath.Join(root, name)); err != nil {
			return err
		}
	}
	usage, err := diskUsage(root)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(usage, "", "  ")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usage.json"), b, 0o644); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	baseTar := filepath.Join(dir, "base.tar")
	if err := tarRoot(ctx, o, root, baseTar); err != nil {
		return err
	}
	layout := filepath.Join(dir, "layout")
	created := o.Created.UTC().Format(time.RFC3339)
	for _, args := range [][]string{
		{"init", "--layout", layout},
		{"new", "--image", layout + ":base"},
		{"raw", "add-layer", "--image", layout + ":base", "--history.created", created, "--history.created_by",
			"debootstrap --variant=minbase " + Suite + "; nodeimage/rootfs.sh (" + strings.Join(Packages, " ") + ")", baseTar},
	} {
		if err := run(ctx, o.Log, "", "umoci", args...); err != nil {
			return err
		}
	}
	if err := os.Remove(baseTar); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := removeAll(root); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ok"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// tarRoot packs a root as an uncompressed layer: numeric owners, sorted
// names, file capabilities kept, and the mount points empty.
func tarRoot(ctx context.Context, o Options, root, out string) error {
	return run(ctx, o.Log, "", "tar", "--create", "--file", out, "--directory", root,
		"--numeric-owner", "--sort=name", "--one-file-system", "--xattrs", "--xattrs-include=security.capability",
		"--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./run/*",
		"--exclude=./etc/resolv.conf", "--exclude=./etc/hostname", "--exclude=./var/cache/apt/archives/*.deb", ".")
}

// packMinbase packs the debootstrapped root as the layout dir/minbase,
// tagged "minbase".
func packMinbase(ctx context.Context, o Options, dir, root string) error {
	tarPath := filepath.Join(dir, "minbase.tar")
	if err := tarRoot(ctx, o, root, tarPath); err != nil {
		return err
	}
	layout := filepath.Join(dir, "minbase")
	created := o.Created.UTC().Format(time.RFC3339)
	for _, args := range [][]string{
		{"init", "--layout", layout},
		{"new", "--image", layout + ":minbase"},
		{"raw", "add-layer", "--image", layout + ":minbase", "--history.created", created, "--history.created_by",
			"debootstrap --variant=minbase " + Suite, tarPath},
		{"config", "--image", layout + ":minbase", "--config.cmd", "bash", "--config.env",
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--no-history"},
	} {
		if err := run(ctx, o.Log, "", "umoci", args...); err != nil {
			return err
		}
	}
	if err := os.Remove(tarPath); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}

// emptyDir removes what is inside dir (device nodes debootstrap made in
// /dev, for one): the runtime mounts its own.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("image: %w", err)
	}
	for _, e := range entries {
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeAll removes path; a bind mount left inside (there should be none:
// mounts are made in private namespaces) makes it fail rather than follow.
func removeAll(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("image: remove %s: %w", path, err)
	}
	return nil
}

// bigFile: files at least this large are listed in the usage too.
const bigFile = 2 << 20

// diskUsage sums regular file sizes by directory, for the first two
// levels under root and /usr/lib, /usr/share and the multiarch library
// directory (where the size is), and lists files of bigFile or more.
func diskUsage(root string) ([]DirUsage, error) {
	sums := map[string]int64{}
	files := map[string]bool{}
	seen := map[uint64]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		rel := strings.TrimPrefix(p, root)
		parts := strings.Split(strings.TrimPrefix(rel, "/"), "/")
		depth := 2 // /usr/lib
		if len(parts) > 2 && parts[0] == "usr" && (parts[1] == "lib" || parts[1] == "share") {
			depth = 3 // /usr/lib/postgresql
			if parts[1] == "lib" && strings.HasSuffix(parts[2], "-linux-gnu") {
				depth = 4 // /usr/lib/x86_64-linux-gnu/perl
			}
		}
		for n := 1; n <= depth && n < len(parts); n++ {
			sums["/"+strings.Join(parts[:n], "/")] += fi.Size()
		}
		if fi.Size() >= bigFile {
			sums[rel] += fi.Size()
			files[rel] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image: disk usage of %s: %w", root, err)
	}
	out := make([]DirUsage, 0, len(sums))
	for p, n := range sums {
		out = append(out, DirUsage{p, n, files[p]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

func readUsage(path string) ([]DirUsage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	var u []DirUsage
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("image: %s: %w", path, err)
	}
	return u, nil
}

// buildBinary builds a static pgtui (no cgo) for the image.
func buildBinary(ctx context.Context, o Options, out string) error {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	ldflags := "-s -w -X github.com/pgtui/pgtui/internal/version.Version=" + o.Version
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./cmd/pgtui")
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("image: go build (static) ./cmd/pgtui: %w\n%s", err, buf.Bytes())
	}
	fmt.Fprintf(o.Log, "image: static pgtui built in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// writeBinaryLayer writes an uncompressed layer holding the binary at
// BinaryPath (root-owned, 0755).
func writeBinaryLayer(path, bin string, mtime time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	dirs := []string{"usr/", "usr/local/", "usr/local/bin/"}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return fmt.Errorf("image: layer: %w", err)
		}
	}
	src, err := os.Open(bin)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(BinaryPath, "/"), Mode: 0o755, Size: fi.Size(), ModTime: mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("image: layer: %w", err)
	}
	if _, err := io.Copy(tw, src); err != nil {
		return fmt.Errorf("image: layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("image: layer: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("image: layer: %w", err)
	}
	return nil
}

// copyLayout copies an OCI layout, hard-linking its blobs (content
// addressed, never changed in place) and copying the index.
func copyLayout(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("image: copy layout: %w", err)
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("image: copy layout: %w", err)
			}
			return nil
		}
		if strings.HasPrefix(rel, "blobs"+string(filepath.Separator)) {
			if err := os.Link(p, target); err == nil {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("image: copy layout: %w", err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return fmt.Errorf("image: copy layout: %w", err)
		}
		return nil
	})
}

// nameImage gives the layout's one manifest the names loaders read:
// org.opencontainers.image.ref.name (Podman, skopeo) and
// io.containerd.image.name (Docker, containerd's ctr), and writes the
// docker-archive manifest.json. It returns the config digest, the image
// ID once loaded.
func nameImage(layout, tag string) (string, error) {
	path := filepath.Join(layout, "index.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	var index map[string]any
	if err := json.Unmarshal(b, &index); err != nil {
		return "", fmt.Errorf("image: %s: %w", path, err)
	}
	manifests, _ := index["manifests"].([]any)
	if len(manifests) != 1 {
		return "", fmt.Errorf("image: %s: want one manifest, have %d", path, len(manifests))
	}
	m, _ := manifests[0].(map[string]any)
	ann, _ := m["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	full := "localhost/" + Name + ":" + tag
	ann["org.opencontainers.image.ref.name"] = full
	ann["io.containerd.image.name"] = full
	m["annotations"] = ann
	out, err := json.Marshal(index)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	digest, _ := m["digest"].(string)
	man, err := readBlob(layout, digest)
	if err != nil {
		return "", err
	}
	type descriptor struct {
		Digest string `json:"digest"`
	}
	var manifest struct {
		Config descriptor   `json:"config"`
		Layers []descriptor `json:"layers"`
	}
	if err := json.Unmarshal(man, &manifest); err != nil {
		return "", fmt.Errorf("image: manifest %s: %w", digest, err)
	}
	// manifest.json, as `docker save` writes it beside the OCI layout, so
	// that loaders of the older docker-archive format (Docker before 25)
	// take the same archive.
	blob := func(d string) string { return "blobs/" + strings.Replace(d, ":", "/", 1) }
	legacy := []map[string]any{{
		"Config":   blob(manifest.Config.Digest),
		"RepoTags": []string{full},
		"Layers":   []string{},
	}}
	for _, l := range manifest.Layers {
		legacy[0]["Layers"] = append(legacy[0]["Layers"].([]string), blob(l.Digest))
	}
	lb, err := json.Marshal(legacy)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(layout, "manifest.json"), lb, 0o644); err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	return manifest.Config.Digest, nil
}

func readBlob(layout, digest string) ([]byte, error) {
	algo, hexd, ok := strings.Cut(digest, ":")
	if !ok {
		return nil, fmt.Errorf("image: bad digest %q", digest)
	}
	b, err := os.ReadFile(filepath.Join(layout, "blobs", algo, hexd))
	if err != nil {
		return nil, fmt.Errorf("image: blob %s: %w", digest, err)
	}
	return b, nil
}

// tarDir writes dir as an uncompressed tar (an OCI archive when dir is an
// OCI layout), names sorted, owned by root, with one mtime.
func tarDir(dir, out string, mtime time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	sort.Strings(paths)
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("image: archive: %w", err)
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
		case fi.Mode().IsRegular():
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, fi.Size()
		default:
			return fmt.Errorf("image: archive: unexpected file %s (%s)", p, fi.Mode())
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("image: archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			src, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("image: archive: %w", err)
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return fmt.Errorf("image: archive: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	return nil
}

// run runs a command, passing its output to log, and wraps a failure
// with the command line and the last lines it printed.
func run(ctx context.Context, log io.Writer, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	tail := &tailWriter{}
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("image: %s %s: %w\n%s", name, strings.Join(args, " "), err, tail.String())
	}
	return nil
}

// tailWriter keeps the last 4 KiB written.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return string(t.b) }
