package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Ensure builds the image (warm: seconds, cold: minutes for the base)
// from the repository around the working directory and returns the
// archive's path. It always rebuilds the binary layer, so a test runs the
// code it was built with.
func Ensure(ctx context.Context) (string, error) {
	res, err := Build(ctx, Options{Log: os.Stderr})
	if err != nil {
		return "", err
	}
	return res.Archive, nil
}

// PodmanLoad loads an archive into Podman's store and returns the image's
// ID (a full hex digest: a reference that a concurrent load of another
// build under the same tag cannot move).
func PodmanLoad(ctx context.Context, archive string) (string, error) {
	id, err := ArchiveImageID(archive)
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "podman", "load", "-i", archive).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("podman load -i %s: %w\n%s", archive, err, out)
	}
	hex := strings.TrimPrefix(id, "sha256:")
	if out, err := exec.CommandContext(ctx, "podman", "image", "exists", hex).CombinedOutput(); err != nil {
		return "", fmt.Errorf("podman load -i %s: image %s not in the store afterwards: %w\n%s", archive, hex, err, out)
	}
	return hex, nil
}

// ArchiveImageID reads the config digest of the one image in an OCI
// archive: the ID Podman and Docker give it.
func ArchiveImageID(archive string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	defer f.Close()
	files := map[string][]byte{}
	want := func(name string) bool { return name == "index.json" }
	var index, manifest struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	// index.json sorts before blobs/ is not guaranteed, so read twice at
	// most: first the index, then the manifest it names.
	for pass := 0; pass < 2; pass++ {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("image: %w", err)
		}
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", fmt.Errorf("image: read %s: %w", archive, err)
			}
			name := strings.TrimPrefix(h.Name, "./")
			if want(name) && h.Size < 1<<20 {
				b, err := io.ReadAll(tr)
				if err != nil {
					return "", fmt.Errorf("image: read %s: %w", archive, err)
				}
				files[name] = b
			}
		}
		if pass == 0 {
			b, ok := files["index.json"]
			if !ok {
				return "", fmt.Errorf("image: %s has no index.json: not an OCI archive", archive)
			}
			if err := json.Unmarshal(b, &index); err != nil || len(index.Manifests) != 1 {
				return "", fmt.Errorf("image: %s: index.json must name one manifest (%v)", archive, err)
			}
			algo, hex, _ := strings.Cut(index.Manifests[0].Digest, ":")
			mpath := "blobs/" + algo + "/" + hex
			want = func(name string) bool { return name == mpath }
			continue
		}
		for _, b := range files {
			if json.Unmarshal(b, &manifest) == nil && manifest.Config.Digest != "" {
				return manifest.Config.Digest, nil
			}
		}
	}
	return "", fmt.Errorf("image: %s: manifest %s not found", archive, index.Manifests[0].Digest)
}

// NodeOptions say how to run one node from the image.
type NodeOptions struct {
	// Name of the container; a container left with this name is replaced.
	Name string
	// Netns is a network namespace name (/run/netns/<name>, from `ip
	// netns add`) or path the container joins; empty means --network host.
	Netns string
	// DataDir is a host directory mounted at /data; it must be writable
	// by uid 999 (PrepareDataDir). Empty: an anonymous volume.
	DataDir string
	// Env are variable names passed through from the caller's environment
	// (`-e NAME`), so passwords never appear on a command line.
	Env []string
	// Args are the node's flags (`pgtui node` is the entrypoint).
	Args []string
	// Extra podman run flags, after the ones HostFlags returns.
	Extra []string
	// KillWithCommand ties the container to the returned command's
	// process: however that process ends (a harness's SIGKILL, ctx), a
	// watcher it started kills and removes the container (SIGKILL, by its
	// ID, so a new container under the same name is safe). Without it the
	// container outlives its `podman run` client (conmon keeps it).
	KillWithCommand bool
}

// NodeCmd returns the `podman run` command that runs one node in the
// foreground: its output is the node's. Unless o.KillWithCommand, ending
// the command does not end the container: use Remove, or Kill.
func NodeCmd(ctx context.Context, ref string, o NodeOptions) *exec.Cmd {
	args := NodeArgs(ref, o)
	if !o.KillWithCommand {
		return exec.CommandContext(ctx, "podman", args...)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	cid := filepath.Join(os.TempDir(), fmt.Sprintf("pgtui-image-%s-%x.cid", o.Name, rnd))
	args = append([]string{args[0], "--cidfile", cid}, args[1:]...)
	// The shell starts the watcher, then becomes podman (exec: the
	// command's pid is podman's). The watcher gets SIGTERM when its
	// parent dies (setpriv --pdeathsig) and removes the container.
	return exec.CommandContext(ctx, "sh", append([]string{"-c", killWithScript, "pgtui-image-node", watchScript, cid}, args...)...)
}

const (
	killWithScript = `w=$1; c=$2; shift 2
setpriv --pdeathsig TERM -- sh -c "$w" pgtui-image-watch "$c" </dev/null >/dev/null 2>&1 &
exec podman "$@"`
	watchScript = `trap 'kill $s 2>/dev/null; id=$(cat "$1" 2>/dev/null); [ -n "$id" ] && podman rm --force --ignore --time 0 "$id"; rm -f "$1"; exit 0' TERM
sleep infinity & s=$!
wait $s`
)

// NodeArgs are the arguments to podman of NodeCmd.
func NodeArgs(ref string, o NodeOptions) []string {
	// --init: a small init (Podman's catatonit, Docker's tini) is PID 1
	// and reaps the processes postgres leaves when it crashes; the node
	// as PID 1 would leave them as zombies.
	args := []string{"run", "--rm", "--replace", "--init", "--name", o.Name}
	args = append(args, HostFlags()...)
	switch {
	case o.Netns == "":
		args = append(args, "--network", "host")
	case strings.Contains(o.Netns, "/"):
		args = append(args, "--network", "ns:"+o.Netns)
	default:
		args = append(args, "--network", "ns:/run/netns/"+o.Netns)
	}
	if o.DataDir != "" {
		args = append(args, "--volume", o.DataDir+":"+DataDir)
	}
	for _, e := range o.Env {
		args = append(args, "--env", e)
	}
	args = append(args, o.Extra...)
	args = append(args, ref)
	return append(args, o.Args...)
}

// PrepareDataDir creates dir for the volume, owned by the image's
// postgres user (999:999) with mode 0700: the same as
// `install -d -o 999 -g 999 -m 700 DIR`.
func PrepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("image: data dir: %w", err)
	}
	if err := os.Chown(dir, UID, UID); err != nil {
		return fmt.Errorf("image: data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("image: data dir: %w", err)
	}
	return nil
}

// Remove stops and removes a container at once (SIGKILL: like a host
// losing power), if it exists.
func Remove(ctx context.Context, name string) error {
	out, err := exec.CommandContext(ctx, "podman", "rm", "--force", "--ignore", "--time", "0", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman rm -f %s: %w\n%s", name, err, out)
	}
	return nil
}

// Kill sends a signal to the container's main process (the node).
func Kill(ctx context.Context, name string, sig syscall.Signal) error {
	out, err := exec.CommandContext(ctx, "podman", "kill", "--signal", strconv.Itoa(int(sig)), name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman kill -s %d %s: %w\n%s", sig, name, err, out)
	}
	return nil
}

var (
	hostFlagsOnce sync.Once
	hostFlags     []string
)

// HostFlags are the podman run flags this machine needs (see
// docs/DEPLOY.md, "Running the image with Podman"):
//
//   - --runtime runc when the cgroup v2 hierarchy is mounted beside v1
//     with a controller in it (hybrid mode): crun refuses that ("cgroups
//     in hybrid mode not supported, drop all controllers from cgroupv2");
//     Debian's runc runs it.
//   - --ulimit nofile=N:N and nproc=N:N at most this process's hard
//     limits when root lacks CAP_SYS_RESOURCE: Podman's defaults for root
//     (nofile 1048576, nproc up to pid_max) cannot be set then ("setrlimit
//     `RLIMIT_NOFILE`: Operation not permitted").
func HostFlags() []string {
	hostFlagsOnce.Do(func() { hostFlags = detectHostFlags() })
	return append([]string(nil), hostFlags...)
}

func detectHostFlags() []string {
	var flags []string
	if b, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil && len(bytes.TrimSpace(b)) > 0 {
		if _, err := exec.LookPath("runc"); err == nil {
			flags = append(flags, "--runtime", "runc")
		}
	}
	if !hasCap(capSysResource) {
		var nofile, nproc syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile) == nil {
			n := min(nofile.Max, 1<<20)
			flags = append(flags, "--ulimit", fmt.Sprintf("nofile=%d:%d", n, n))
		}
		if syscall.Getrlimit(rlimitNPROC, &nproc) == nil {
			n := nproc.Max
			// Podman lowers its own nproc limit to pid_max; the
			// container's cannot be above it.
			if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
				if pm, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
					n = min(n, pm)
				}
			}
			flags = append(flags, "--ulimit", fmt.Sprintf("nproc=%d:%d", n, n))
		}
	}
	return flags
}

const (
	capSysResource = 24
	rlimitNPROC    = 6
)

// hasCap reports whether this process has a capability in its effective
// set.
func hasCap(c uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && n&(1<<c) != 0
		}
	}
	return false
}

// NodeCmdFromArgs turns the arguments of a plain `pgtui node` (args
// may start with "node", as the hosts harness passes them) into a
// `podman run` of the image in netns: the --data-dir directory becomes
// the /data volume (made uid 999's), and the files named by
// --etcd-cacert, --etcd-cert and --etcd-key are copied, owned by 999 and
// 0600, into a directory beside the data dir that is mounted read-only
// at /etc/pgtui/etcd (a root-owned key would be unreadable to the node).
// It is for a harness hook such as hosts.Options.NodeCommand: killing the
// returned command (SIGKILL too) kills the container (KillWithCommand).
func NodeCmdFromArgs(ctx context.Context, ref, name, netns string, args []string) (*exec.Cmd, error) {
	o, err := nodeOptionsFromArgs(name, netns, args)
	if err != nil {
		return nil, err
	}
	return NodeCmd(ctx, ref, o), nil
}

// etcdTLSDir is where NodeCmdFromArgs mounts the etcd client files.
const etcdTLSDir = "/etc/pgtui/etcd"

func nodeOptionsFromArgs(name, netns string, args []string) (NodeOptions, error) {
	o := NodeOptions{Name: name, Netns: netns, KillWithCommand: true,
		Env: []string{"PGTUI_SUPERUSER_PASSWORD", "PGTUI_ADMIN_PASSWORD", "PGTUI_REPL_PASSWORD"}}
	if len(args) > 0 && args[0] == "node" {
		args = args[1:]
	}
	tls := map[string]string{}
	for i := 0; i < len(args); i++ {
		flag, val, hasVal := strings.Cut(args[i], "=")
		switch flag {
		case "--data-dir", "--etcd-cacert", "--etcd-cert", "--etcd-key":
		default:
			o.Args = append(o.Args, args[i])
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return NodeOptions{}, fmt.Errorf("image: %s needs a value", flag)
			}
			i++
			val = args[i]
		}
		if flag == "--data-dir" {
			o.DataDir = val
		} else {
			tls[flag] = val
		}
	}
	if o.DataDir == "" {
		return NodeOptions{}, errors.New("image: the node's arguments name no --data-dir for the volume")
	}
	if err := PrepareDataDir(o.DataDir); err != nil {
		return NodeOptions{}, err
	}
	if len(tls) > 0 {
		dir := strings.TrimSuffix(o.DataDir, "/") + ".etcd-tls"
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return NodeOptions{}, fmt.Errorf("image: etcd tls dir: %w", err)
		}
		for _, flag := range []string{"--etcd-cacert", "--etcd-cert", "--etcd-key"} {
			src, ok := tls[flag]
			if !ok {
				continue
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return NodeOptions{}, fmt.Errorf("image: %s: %w", flag, err)
			}
			base := map[string]string{"--etcd-cacert": "ca.pem", "--etcd-cert": "cert.pem", "--etcd-key": "key.pem"}[flag]
			dst := dir + "/" + base
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				return NodeOptions{}, fmt.Errorf("image: %s: %w", flag, err)
			}
			if err := os.Chown(dst, UID, UID); err != nil {
				return NodeOptions{}, fmt.Errorf("image: %s: %w", flag, err)
			}
			o.Args = append(o.Args, flag, etcdTLSDir+"/"+base)
		}
		if err := os.Chown(dir, UID, UID); err != nil {
			return NodeOptions{}, fmt.Errorf("image: etcd tls dir: %w", err)
		}
		o.Extra = append(o.Extra, "--volume", dir+":"+etcdTLSDir+":ro")
	}
	return o, nil
}
