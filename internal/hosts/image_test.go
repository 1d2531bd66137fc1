package hosts

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/image"
	"github.com/pgtui/pgtui/internal/testcluster"
)

// One of the three hosts runs its node from the image (`make image`'s
// archive, podman in that host's namespace), the others the binary; the
// image's node joins the cluster over TLS, takes writes through its
// proxy, survives the kill of its whole host and rejoins from the image.
func TestHostsImage(t *testing.T) {
	if err := Supported(); err != nil {
		t.Skipf("hosts need network namespaces: %v", err)
	}
	for _, tool := range append([]string{"podman"}, image.Tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make image-deps` (make test does): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	archive, err := image.Ensure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := image.PodmanLoad(ctx, archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image built and loaded in %v: %.12s", time.Since(began).Round(100*time.Millisecond), ref)
	// The image stays loaded: internal/image's test, which may run at
	// the same time in another package, loads the same build (same ID)
	// and would lose it between its load and its run.

	// After Close: a container a kill caught while podman created it
	// (before its id file existed) is left behind otherwise.
	var container string
	t.Cleanup(func() {
		if container != "" {
			if err := image.Remove(context.Background(), container); err != nil {
				t.Log(err)
			}
		}
	})
	var imageHost string
	c := start(t, Options{NodeCommand: func(ctx context.Context, h *Host, args []string) (*exec.Cmd, error) {
		if h.Name != "h1" {
			return exec.Command("ip", append([]string{"netns", "exec", h.Netns, bin}, args...)...), nil
		}
		imageHost, container = h.Name, "pgtui-hosts-"+h.Netns
		return image.NodeCmdFromArgs(ctx, ref, container, h.Netns, args)
	}})
	h1 := c.Host(imageHost)
	if h1 == nil {
		t.Fatal("no node ran from the image")
	}
	if out, err := exec.Command("podman", "inspect", "--format", "{{.State.Running}}", "pgtui-hosts-"+h1.Netns).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Fatalf("container of %s not running: %v %s", h1.Name, err, out)
	}
	checkBootstrap(t, c)

	via := other(c, h1)
	wr := startWriter(c.ProxyURL(via), nil, 1)
	defer wr.stop()
	waitAcks(ctx, t, wr.w, 20, "before the kill")
	if err := c.KillHost(h1); err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, wr.w, 20, "after killing the image's host")
	if _, err := c.WaitFor(ctx, h1.Name+" seen dead", func(s testcluster.State) bool { return !s.Members[h1.Name].Alive }); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartHost(h1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(ctx, "the image's node back", testcluster.Healthy(2, true)); err != nil {
		t.Fatal(err)
	}
	// Through the image node's proxy, to whoever leads now.
	if err := writeOnce(ctx, c.ProxyURL(h1), nil); err != nil {
		t.Errorf("write through the image node's proxy: %v", err)
	}
	wr.stop()
	verify(ctx, t, c, via, wr.w.Acks())
}
