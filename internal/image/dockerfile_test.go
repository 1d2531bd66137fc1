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
