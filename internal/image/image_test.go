package image

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/password"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// TestHostsImageNode builds the image (make image's code), loads it into
// Podman and runs one node from it in a network namespace of its own,
// against a real etcd on the test's bridge: the node's postgres becomes
// the leader and takes a write through the node's :5432 proxy.
func TestHostsImageNode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("building the image (debootstrap, chroot) and running it with podman need root")
	}
	for _, tool := range append([]string{"podman", "ip"}, Tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make image-deps` (make test does): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start := time.Now()
	archive, err := Ensure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image built in %s: %s", time.Since(start).Round(100*time.Millisecond), archive)
	start = time.Now()
	ref, err := PodmanLoad(ctx, archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("podman load took %s: image %.12s", time.Since(start).Round(100*time.Millisecond), ref)
	t.Cleanup(func() {
		// Runs after the containers are removed, but a container's --rm
		// cleanup (conmon's) may still hold the image for a moment; an
		// image that someone else's container uses stays (no --force).
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := exec.Command("podman", "rmi", "--ignore", ref).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "in use") || time.Now().After(deadline) {
				if err != nil {
					t.Logf("podman rmi %.12s: %v: %s", ref, err, out)
				}
				return
			}
			time.Sleep(250 * time.Millisecond) // poll until the container is gone
		}
	})
	checkImageConfig(t, ctx, ref)
	// The same archive read as a docker-archive (its manifest.json, what
	// Docker before 25 loads) gives the same image.
	out, err := exec.CommandContext(ctx, "podman", "pull", "--quiet", "docker-archive:"+archive).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != ref {
		t.Errorf("podman pull docker-archive:%s: %s %v; want image %s", archive, out, err, ref)
	}

	// With a node that takes --etcd-cacert/--etcd-cert/--etcd-key, etcd
	// is served over TLS with client certificates, as on real hosts.
	help, _ := exec.CommandContext(ctx, "podman", append(append([]string{"run", "--rm", "--network", "none"}, HostFlags()...), ref, "--help")...).CombinedOutput()
	withTLS := strings.Contains(string(help), "--etcd-cacert")
	t.Logf("etcd over TLS with client certificates: %v (the node's --help lists --etcd-cacert: %v)", withTLS, withTLS)

	sweepTestContainers(t)
	nw := newTestNet(t)
	etcd := startTestEtcd(t, nw.bridgeAddr(), withTLS)

	data := filepath.Join(t.TempDir(), "data")
	secrets := map[string]string{}
	for _, k := range []string{"PGTUI_SUPERUSER_PASSWORD", "PGTUI_ADMIN_PASSWORD", "PGTUI_REPL_PASSWORD"} {
		pw, err := password.Generate()
		if err != nil {
			t.Fatal(err)
		}
		secrets[k] = pw
		t.Setenv(k, pw)
	}

	const member, clusterName = "n1", "imagetest"
	nodeArgs := []string{"--name", member, "--cluster", clusterName, "--listen", nw.nodeAddr(), "--etcd-endpoints", etcd.Endpoint}
	st := store.New(etcd.Client, clusterName)
	dsn := fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require&connect_timeout=5",
		url.QueryEscape(secrets["PGTUI_SUPERUSER_PASSWORD"]), net.JoinHostPort(nw.nodeAddr(), "5432"))

	// 1. NodeCmdFromArgs (NodeCmd under it), as the hosts harness runs
	// a node from the plain node's arguments: a new node initdbs on the
	// empty volume, leads, takes a write.
	name := "pgtui-image-test-" + nw.tag
	plain := append([]string{"node", "--data-dir", data}, nodeArgs...)
	if withTLS {
		plain = append(plain, "--etcd-cacert", etcd.CACert, "--etcd-cert", etcd.Cert, "--etcd-key", etcd.Key)
	}
	cmd, err := NodeCmdFromArgs(ctx, ref, name, nw.ns, plain)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("podman %s", strings.Join(cmd.Args[indexOf(cmd.Args, "run"):], " "))
	exited := startContainer(t, name, cmd)
	server := leadAndWrite(t, ctx, st, member, dsn, exited, 1)
	t.Logf("wrote through the proxy: %s", server)
	if !strings.HasPrefix(server, DataDir+"/") || !strings.Contains(server, "PostgreSQL "+PGMajor+".") {
		t.Errorf("server %q: want data under %s and PostgreSQL %s", server, DataDir, PGMajor)
	}
	// The node runs as postgres (999), never root; its data is on the
	// volume, owned by 999.
	out, err = exec.CommandContext(ctx, "podman", "exec", name, "id", "-u").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(UID) {
		t.Errorf("podman exec %s id -u: %q, %v; want %d", name, out, err, UID)
	}
	// The image leaves the JIT provider out (docs/DEPLOY.md): postgres
	// runs, with JIT unavailable.
	if conn, err := pgx.Connect(ctx, dsn); err != nil {
		t.Error(err)
	} else {
		var jit bool
		if err := conn.QueryRow(ctx, "SELECT pg_jit_available()").Scan(&jit); err != nil || jit {
			t.Errorf("pg_jit_available() = %v (%v), want false: the image leaves llvmjit out", jit, err)
		}
		conn.Close(ctx)
	}
	if uid, err := ownerOf(filepath.Join(data, "pgdata", "PG_VERSION")); err != nil || uid != UID {
		t.Errorf("volume data owned by %d (%v), want %d", uid, err, UID)
	}
	// postgres crashes inside the container (kill -9 of the postmaster):
	// the node brings it back as the leader, and the postmaster's orphaned
	// children are reaped (the container's init does it: --init), not
	// left as zombies.
	out, err = exec.CommandContext(ctx, "podman", "exec", name, "sh", "-c", "kill -9 $(head -1 "+DataDir+"/pgdata/postmaster.pid)").CombinedOutput()
	if err != nil {
		t.Fatalf("kill -9 of the postmaster in %s: %v\n%s", name, err, out)
	}
	leadAndWrite(t, ctx, st, member, dsn, exited, 10)
	zombies := func(ctx context.Context) (string, error) {
		out, err := exec.CommandContext(ctx, "podman", "exec", name, "sh", "-c",
			`for f in /proc/[0-9]*/status; do grep -q '^State:.*Z' "$f" 2>/dev/null && sed -n 's/^Name:\t//p' "$f"; done; true`).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	// A podman exec that fails (on a loaded machine it can outlast its
	// context) is asked again; only an answer with no zombie ends the wait.
	if err := waitFor(ctx, exited, 2*time.Minute, func(ctx context.Context) (bool, error) {
		z, err := zombies(ctx)
		return err == nil && z == "", nil
	}); err != nil {
		z, _ := zombies(ctx)
		t.Errorf("zombie processes in the container after postgres crashed: %q (%v)", z, err)
	}

	// A clean stop: SIGTERM to the node, which stops postgres and exits.
	stopContainer(t, ctx, exited, "podman", "stop", "--time", "30", name)
	if _, err := os.Stat(filepath.Join(data, "pgdata", "postmaster.pid")); err == nil {
		t.Errorf("postmaster.pid left in the volume: postgres was not shut down cleanly")
	}

	// 2. The systemd unit of docs/DEPLOY.md, its commands run as systemd
	// would with this node.env: the node restarts on the same volume,
	// leads again and still has the first write.
	unitName := name + "-unit"
	podmanFlags := HostFlags()
	if withTLS {
		// The directory NodeCmdFromArgs made: the files owned by 999.
		podmanFlags = append(podmanFlags, "--volume", data+".etcd-tls:"+etcdTLSDir+":ro")
		nodeArgs = append(nodeArgs, "--etcd-cacert", etcdTLSDir+"/ca.pem", "--etcd-cert", etcdTLSDir+"/cert.pem", "--etcd-key", etcdTLSDir+"/key.pem")
	}
	env := map[string]string{
		"PGTUI_IMAGE":        ref,
		"PGTUI_NETWORK":      "ns:/run/netns/" + nw.ns,
		"PGTUI_DATA":         data,
		"PGTUI_NODE_ARGS":    strings.Join(nodeArgs, " "),
		"PGTUI_PODMAN_FLAGS": strings.Join(podmanFlags, " "),
	}
	unit, err := readUnit(filepath.Join(root(t), "nodeimage", "pgtui-node.service"), unitName, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, pre := range unit["ExecStartPre"] {
		if out, err := exec.CommandContext(ctx, pre[0], pre[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("ExecStartPre %q: %v\n%s", pre, err, out)
		}
	}
	if len(unit["ExecStart"]) != 1 || len(unit["ExecStop"]) != 1 {
		t.Fatalf("unit: want one ExecStart and one ExecStop: %q", unit)
	}
	startCmd := unit["ExecStart"][0]
	t.Logf("ExecStart: %s", strings.Join(startCmd, " "))
	exited = startContainer(t, unitName, exec.CommandContext(ctx, startCmd[0], startCmd[1:]...))
	leadAndWrite(t, ctx, st, member, dsn, exited, 2)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM image_test").Scan(&n)
	conn.Close(ctx)
	if err != nil || n != 3 {
		t.Errorf("rows after the restart on the same volume: %d (%v), want 3", n, err)
	}
	stop := unit["ExecStop"][0]
	stopContainer(t, ctx, exited, stop...)

	// 3. kill -9 of the command NodeCmdFromArgs returned (what the hosts
	// harness's KillNode does) takes the container, node and postgres
	// with it; the leader key expires.
	killed := name + "-kill"
	cmd, err = NodeCmdFromArgs(ctx, ref, killed, nw.ns, plain)
	if err != nil {
		t.Fatal(err)
	}
	exited = startContainer(t, killed, cmd)
	leadAndWrite(t, ctx, st, member, dsn, exited, 3)
	start = time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = waitFor(ctx, nil, time.Minute, func(ctx context.Context) (bool, error) {
		gone := exec.CommandContext(ctx, "podman", "container", "exists", killed).Run() != nil
		lk, err := st.Leader(ctx)
		return gone && err == nil && lk.Holder == "", nil
	})
	if err != nil {
		t.Fatalf("after kill -9 of its podman run: container %s still there or the leader key held: %v", killed, err)
	}
	t.Logf("kill -9 of podman run: container gone and leader key expired after %s", time.Since(start).Round(100*time.Millisecond))
}

// startContainer starts a podman run command (output to a log shown if
// the test fails) and removes its container when the test ends, before
// the network and etcd go (cleanups run last first), even on failure.
func startContainer(t *testing.T, name string, cmd *exec.Cmd) chan error {
	t.Helper()
	// Labelled with our pid, so a later run removes the container if this
	// process dies before its cleanup (a test timeout runs none).
	if i := indexOf(cmd.Args, "run"); i > 0 {
		cmd.Args = append(append(cmd.Args[:i:i], "run", "--label", testPidLabel+"="+strconv.Itoa(os.Getpid())), cmd.Args[i+1:]...)
	}
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("podman run: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// The client first (a no-op once it has exited), so it cannot go
		// on to create the container after the removal; then the
		// container, which outlives its client.
		_ = cmd.Process.Kill()
		err := <-exited
		exited <- err
		rmCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := Remove(rmCtx, name); err != nil {
			t.Error(err)
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", name, tailFile(logPath, 60))
		}
	})
	return exited
}

// leadAndWrite waits until member holds the leader key and the cluster
// data names it, then until a row with id can be written through the
// proxy; it returns the server's data directory and version.
func leadAndWrite(t *testing.T, ctx context.Context, st *store.Store, member, dsn string, exited chan error, id int) string {
	t.Helper()
	start := time.Now()
	err := waitFor(ctx, exited, 3*time.Minute, func(ctx context.Context) (bool, error) {
		lk, err := st.Leader(ctx)
		if err != nil || lk.Holder != member {
			return false, nil
		}
		d, _, err := st.ClusterData(ctx)
		return err == nil && d != nil && d.Leader == member, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s to lead: %v", member, err)
	}
	t.Logf("the node in the container leads after %s", time.Since(start).Round(100*time.Millisecond))
	var server string
	err = waitFor(ctx, exited, time.Minute, func(ctx context.Context) (bool, error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return false, nil // the proxy routes once the leader is up
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS image_test (id int PRIMARY KEY, at timestamptz DEFAULT now())"); err != nil {
			return false, fmt.Errorf("create table: %w", err)
		}
		var got int
		if err := conn.QueryRow(ctx, "INSERT INTO image_test (id) VALUES ($1) RETURNING id", id).Scan(&got); err != nil {
			return false, fmt.Errorf("insert: %w", err)
		}
		if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory') || ' ' || version()").Scan(&server); err != nil {
			return false, fmt.Errorf("select: %w", err)
		}
		return got == id, nil
	})
	if err != nil {
		t.Fatalf("write through the proxy: %v", err)
	}
	return server
}

// stopContainer runs a stop command and waits for podman run to return.
func stopContainer(t *testing.T, ctx context.Context, exited chan error, stop ...string) {
	t.Helper()
	start := time.Now()
	if out, err := exec.CommandContext(ctx, stop[0], stop[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", stop, err, out)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Errorf("podman run: %v", err)
		}
		t.Logf("%s took %s (podman run: %v)", strings.Join(stop, " "), time.Since(start).Round(100*time.Millisecond), err)
	case <-ctx.Done():
		t.Fatal("podman run did not return after the stop")
	}
}

// readUnit reads the Exec lines of a systemd unit and expands them as
// systemd does: %N is the unit's name, ${VAR} one word, $VAR split at
// whitespace. The unit's lines hold no quotes.
func readUnit(path, name string, env map[string]string) (map[string][][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string][][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(key, "Exec") {
			continue
		}
		if strings.ContainsAny(val, "\"'\\") {
			return nil, fmt.Errorf("%s: %s: quotes are not expanded here", path, key)
		}
		var words []string
		for _, w := range strings.Fields(val) {
			w = strings.ReplaceAll(w, "%N", name)
			if v, ok := strings.CutPrefix(w, "$"); ok && !strings.HasPrefix(v, "{") {
				e, ok := env[v]
				if !ok {
					return nil, fmt.Errorf("%s: %s uses $%s, not in node.env", path, key, v)
				}
				words = append(words, strings.Fields(e)...)
				continue
			}
			for {
				i := strings.Index(w, "${")
				if i < 0 {
					break
				}
				j := strings.Index(w[i:], "}")
				if j < 0 {
					return nil, fmt.Errorf("%s: %s: unterminated ${", path, key)
				}
				v, ok := env[w[i+2:i+j]]
				if !ok {
					return nil, fmt.Errorf("%s: %s uses ${%s}, not in node.env", path, key, w[i+2:i+j])
				}
				w = w[:i] + v + w[i+j+1:]
			}
			words = append(words, w)
		}
		out[key] = append(out[key], words)
	}
	return out, nil
}

func root(t *testing.T) string {
	t.Helper()
	r, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const testPidLabel = "pgtui.image-test.pid"

// sweepTestContainers removes containers left by test processes that
// died before their cleanup.
func sweepTestContainers(t *testing.T) {
	out, err := exec.Command("podman", "ps", "--all", "--filter", "label="+testPidLabel,
		"--format", "{{.Names}} {{index .Labels \""+testPidLabel+"\"}}").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, pid, ok := strings.Cut(line, " ")
		if !ok || fileExists("/proc/"+pid) {
			continue
		}
		t.Logf("removing container %s of dead test process %s", name, pid)
		if err := Remove(context.Background(), name); err != nil {
			t.Log(err)
		}
	}
}

// waitFor polls cond until it holds, returns an error, the node's podman
// run exits, or timeout passes.
func waitFor(ctx context.Context, exited chan error, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 30*time.Second) // podman exec on a loaded machine
		ok, err := cond(cctx)
		ccancel()
		if err != nil || ok {
			return err
		}
		select {
		case err := <-exited: // never, when exited is nil
			exited <- err
			return fmt.Errorf("podman run exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("not within %s: %w", timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// checkImageConfig compares what Podman reports of the loaded image with
// the config the package defines (and the Dockerfile repeats).
func checkImageConfig(t *testing.T, ctx context.Context, ref string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "podman", "image", "inspect", ref).Output()
	if err != nil {
		t.Fatalf("podman image inspect %s: %v", ref, err)
	}
	var imgs []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			Env          []string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			Labels       map[string]string
		}
		RepoTags []string
	}
	if err := json.Unmarshal(out, &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(imgs))
	}
	c := imgs[0].Config
	if c.User != User || !reflect.DeepEqual(c.Entrypoint, Entrypoint) || len(c.Cmd) != 0 || !reflect.DeepEqual(c.Env, Env) {
		t.Errorf("image config: user %q entrypoint %q cmd %q env %q; want %q %q none %q", c.User, c.Entrypoint, c.Cmd, c.Env, User, Entrypoint, Env)
	}
	var ports []string
	for p := range c.ExposedPorts {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	if !reflect.DeepEqual(ports, Ports) {
		t.Errorf("exposed ports %v, want %v", ports, Ports)
	}
	if _, ok := c.Volumes[DataDir]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes %v, want %s", c.Volumes, DataDir)
	}
	for _, k := range []string{"org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.source"} {
		if c.Labels[k] == "" {
			t.Errorf("label %s missing: %v", k, c.Labels)
		}
	}
	t.Logf("image %v: labels %v", imgs[0].RepoTags, c.Labels)
}

func ownerOf(path string) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return -1, err
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), nil
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
