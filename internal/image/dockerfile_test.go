package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDockerfileMatchesConfig keeps nodeimage/Dockerfile's final stage
// equal to the config `make image` gives the image: base, setup script,
// binary path, env, labels, user, volume, ports, entrypoint.
func TestDockerfileMatchesConfig(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "nodeimage", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Instructions of the last stage, continuation lines joined.
	var stage [][2]string
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			stage = nil
		}
		stage = append(stage, [2]string{instr, strings.TrimSpace(rest)})
	}
	got := map[string][]string{}
	for _, in := range stage {
		got[in[0]] = append(got[in[0]], in[1])
	}
	want := func(instr string, vals ...string) {
		t.Helper()
		if !reflect.DeepEqual(got[instr], vals) {
			t.Errorf("%s: Dockerfile has %q, make image uses %q", instr, got[instr], vals)
		}
	}
	want("FROM", "debian:"+Suite+"-slim")
	want("COPY", "nodeimage/rootfs.sh /tmp/rootfs.sh", "--from=binary /out/pgtui "+BinaryPath)
	want("RUN", "sh /tmp/rootfs.sh")
	want("ENV", Env...)
	want("USER", User)
	want("VOLUME", DataDir)
	want("EXPOSE", strings.Join(Ports, " "))
	entry, _ := json.Marshal(Entrypoint)
	want("ENTRYPOINT", strings.ReplaceAll(string(entry), ",", ", "))
	want("ARG", "VERSION=dev", "REVISION=unknown", "SOURCE="+Source)

	// LABEL k="v" k="v" ...: the same keys, the same values with the
	// build args in place of version and revision.
	labels := map[string]string{}
	for _, l := range got["LABEL"] {
		for len(l) > 0 {
			k, rest, ok := strings.Cut(l, "=\"")
			if !ok {
				t.Fatalf("LABEL: cannot parse %q", l)
			}
			v, rest, ok := strings.Cut(rest, "\"")
			if !ok {
				t.Fatalf("LABEL: unterminated value in %q", l)
			}
			labels[strings.TrimSpace(k)] = v
			l = strings.TrimSpace(rest)
		}
	}
	wantLabels := Labels("${VERSION}", "${REVISION}")
	wantLabels["org.opencontainers.image.source"] = "${SOURCE}"
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Errorf("LABEL: Dockerfile has %q, make image uses %q", labels, wantLabels)
	}
}

// TestNodeOptionsFromArgs: a plain node's arguments become the image's:
// the data dir a volume, the etcd TLS files copied for uid 999 and
// mounted read-only.
func TestNodeOptionsFromArgs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to the image's uid needs root")
	}
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "n1.pem", "n1-key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "h1", "data")
	o, err := nodeOptionsFromArgs("c1", "ns1", []string{"node", "--name", "h1", "--data-dir", data,
		"--etcd-endpoints", "https://10.0.0.1:2379", "--etcd-cacert", filepath.Join(dir, "ca.pem"),
		"--etcd-cert=" + filepath.Join(dir, "n1.pem"), "--etcd-key", filepath.Join(dir, "n1-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := []string{"--name", "h1", "--etcd-endpoints", "https://10.0.0.1:2379",
		"--etcd-cacert", "/etc/pgtui/etcd/ca.pem", "--etcd-cert", "/etc/pgtui/etcd/cert.pem", "--etcd-key", "/etc/pgtui/etcd/key.pem"}
	if !reflect.DeepEqual(o.Args, wantArgs) || o.DataDir != data || o.Netns != "ns1" {
		t.Errorf("options %+v; want args %q, data dir %s", o, wantArgs, data)
	}
	if !reflect.DeepEqual(o.Extra, []string{"--volume", data + ".etcd-tls:/etc/pgtui/etcd:ro"}) {
		t.Errorf("extra %q", o.Extra)
	}
	for _, p := range []string{data, data + ".etcd-tls", data + ".etcd-tls/key.pem"} {
		if uid, err := ownerOf(p); err != nil || uid != UID {
			t.Errorf("%s owned by %d (%v), want %d", p, uid, err, UID)
		}
	}
	if b, err := os.ReadFile(data + ".etcd-tls/key.pem"); err != nil || string(b) != "n1-key.pem" {
		t.Errorf("key copy: %q %v", b, err)
	}
	args := NodeArgs("img", o)
	if i := indexOf(args, "img"); i < 0 || !reflect.DeepEqual(args[i+1:], wantArgs) {
		t.Errorf("podman args %q: the node's must follow the image", args)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
