package image

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestImageDockerfileBuild builds nodeimage/Dockerfile with `podman
// build` (Buildah, a Dockerfile builder), with no registry: in a Podman
// store of the test's own, the cached debootstrap minbase root stands in
// for debian:bookworm-slim, and BINARY=prebuilt takes the static binary
// `make image` left in bin/. The Dockerfile's RUN of rootfs.sh installs
// PostgreSQL from the Debian archive (host network), as on a real build;
// the image has the config `make image` gives, and its programs run.
func TestImageDockerfileBuild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("building the base (debootstrap, chroot) and podman build need root")
	}
	for _, tool := range append([]string{"podman"}, Tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make image-deps` (make test does): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	res, err := Build(ctx, Options{Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	root := root(t)

	// A store of the test's own: the stand-in base gets the official
	// image's name only there. Its tmpdir too: `system reset` below
	// removes the tmpdir, and the shared one (/run/libpod) holds the
	// alive file of every other podman on the machine (a second CI run's
	// podman failed with "open /run/libpod/alive: no such file").
	store := t.TempDir()
	podCtx := ctx
	pod := func(args ...string) (string, error) {
		full := append([]string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
			"--tmpdir", filepath.Join(store, "tmp"), "--volumepath", filepath.Join(store, "volumes"),
			"--network-config-dir", filepath.Join(store, "networks")}, args...)
		cmd := exec.CommandContext(podCtx, "podman", full...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, tailString(string(out), 3000))
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		var cancel context.CancelFunc
		podCtx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := pod("system", "reset", "--force"); err != nil {
			t.Errorf("%v: %s", err, out)
		}
	})
	if _, err := pod("pull", "--quiet", "oci:"+filepath.Join(res.BaseDir, "minbase")+":minbase"); err != nil {
		t.Fatal(err)
	}
	out, err := pod("images", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pod("tag", strings.Fields(out)[0], "docker.io/library/debian:"+Suite+"-slim"); err != nil {
		t.Fatal(err)
	}

	const tag = "localhost/pgtui-node-dockerfile:test"
	start := time.Now()
	args := append([]string{"build", "--pull=never", "--network", "host"}, buildFlags()...)
	args = append(args, "-f", "nodeimage/Dockerfile", "--build-arg", "BINARY=prebuilt",
		"--build-arg", "VERSION=v-test", "--build-arg", "REVISION=r-test", "-t", tag, ".")
	if out, err := pod(args...); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "STEP") || strings.Contains(out, "golang") {
		t.Errorf("podman build output: want the Dockerfile's steps, without the golang stage:\n%s", tailString(out, 3000))
	}
	t.Logf("podman build -f nodeimage/Dockerfile took %s", time.Since(start).Round(100*time.Millisecond))

	out, err = pod("image", "inspect", tag)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Env          []string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			Labels       map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(imgs))
	}
	c := imgs[0].Config
	if c.User != User || !reflect.DeepEqual(c.Entrypoint, Entrypoint) || !reflect.DeepEqual(c.Env, Env) || len(c.ExposedPorts) != len(Ports) {
		t.Errorf("Dockerfile image config: user %q entrypoint %q env %q ports %v", c.User, c.Entrypoint, c.Env, c.ExposedPorts)
	}
	if _, ok := c.Volumes[DataDir]; !ok {
		t.Errorf("volumes %v, want %s", c.Volumes, DataDir)
	}
	for k, v := range Labels("v-test", "r-test") {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}

	run := func(entry string, args ...string) string {
		t.Helper()
		a := append([]string{"run", "--rm", "--network", "none", "--entrypoint", entry}, HostFlags()...)
		out, err := pod(append(append(a, tag), args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	if out := run("/usr/lib/postgresql/"+PGMajor+"/bin/postgres", "--version"); !strings.Contains(out, "(PostgreSQL) "+PGMajor+".") {
		t.Errorf("postgres --version: %q", out)
	}
	if out := run("sh", "-c", "id -u; stat -c '%u %a' /data; pgtui version"); !strings.HasPrefix(out, fmt.Sprintf("%d\n%d 700\n", UID, UID)) {
		t.Errorf("user, /data, pgtui version: %q", out)
	} else {
		t.Logf("in the Dockerfile's image: %q", out)
	}
}

// buildFlags are HostFlags for podman build (which has no --replace
// and runs RUN steps with the same runtime and limits).
func buildFlags() []string { return HostFlags() }

func tailString(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
