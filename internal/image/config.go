// Package image builds the pgtui node image with no registry and runs it
// with Podman.
//
// `make image` (cmd internal/image/mkimage) calls Build: a Debian bookworm
// root from `debootstrap --variant=minbase`, prepared by
// nodeimage/rootfs.sh (PostgreSQL 15 from the Debian archive, the postgres
// user, /data), is packed once as the base layer of an OCI layout with
// umoci and cached outside the repository; each build adds a layer with a
// static pgtui binary, sets the image config and writes an OCI archive
// (bin/pgtui-node.oci.tar) that `podman load` and `docker load` accept.
// nodeimage/Dockerfile builds the same image for those with a registry;
// TestDockerfileMatchesConfig keeps the two configs equal.
//
// Ensure, PodmanLoad and NodeCmd let tests run a node from the image. A
// harness that runs plain nodes hooks the image in with NodeCmdFromArgs,
// for example (the hosts harness's NodeCommand):
//
//	archive, err := image.Ensure(ctx)
//	ref, err := image.PodmanLoad(ctx, archive)
//	opts.NodeCommand = func(h *hosts.Host, args []string) *exec.Cmd {
//		cmd, err := image.NodeCmdFromArgs(ctx, ref, "pgtui-"+cluster+"-"+h.Name, h.Netns, args)
//		if err != nil {
//			return exec.Command("sh", "-c", `echo "$0" >&2; exit 1`, err.Error())
//		}
//		return cmd
//	}
//
// Killing that command (SIGKILL too) kills its container; processes of the
// container are in the host's network namespace, so killing every process
// there kills the node as well.
package image

import (
	"fmt"
	"sort"
)

const (
	// Suite is the Debian release of the base.
	Suite = "bookworm"
	// PGMajor is the PostgreSQL major version installed by rootfs.sh.
	PGMajor = "15"
	// BaseVersion is part of the cache key: bump it when the way the base
	// is made changes in a way the key does not cover (the key already
	// covers the suite, the packages, the apt sources and rootfs.sh).
	BaseVersion = 4
	// Name is the image's name; `podman load` stores it as
	// localhost/pgtui-node:<version>.
	Name = "pgtui-node"
	// ArchivePath is where `make image` writes the archive, relative to
	// the repository root.
	ArchivePath = "bin/pgtui-node.oci.tar"
	// Source is the org.opencontainers.image.source label.
	Source = "https://github.com/pgtui/pgtui"
	// User is the user the node runs as in the image (uid and gid 999,
	// set by rootfs.sh); the volume must be writable by it.
	User = "postgres"
	// UID is the postgres user's id in the image.
	UID = 999
	// DataDir is the volume; the node's --data-dir defaults to it in the
	// image (PGTUI_DATA_DIR).
	DataDir = "/data"
	// BinaryPath is where the static pgtui binary lives in the image.
	BinaryPath = "/usr/local/bin/pgtui"
)

// Packages are installed into the base by rootfs.sh (it names them
// itself; this list is part of the cache key and the docs).
var Packages = []string{"postgresql-common", "postgresql-" + PGMajor}

// Ports the image exposes: proxy, postgres, health, metrics.
var Ports = []string{"5432/tcp", "5433/tcp", "5500/tcp", "9187/tcp"}

// Entrypoint of the image: node flags are the container's arguments.
var Entrypoint = []string{"pgtui", "node"}

// Env of the image. PATH has PostgreSQL's programs for `podman exec`;
// the node finds them on its own. LANG makes initdb use C.UTF-8, the one
// locale the image keeps.
var Env = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/" + PGMajor + "/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	"PGTUI_DATA_DIR=" + DataDir,
}

// Labels returns the image's OCI labels.
func Labels(version, revision string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       Name,
		"org.opencontainers.image.description": "pgtui HA PostgreSQL node: postgres, keeper, sentinel, proxy, health checks, metrics",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    revision,
		"org.opencontainers.image.source":      Source,
	}
}

// umociConfigArgs are the `umoci config` flags that give the image its
// config.
func umociConfigArgs(version, revision, created string) []string {
	args := []string{"--clear=config.cmd", "--clear=config.entrypoint", "--clear=config.env",
		"--clear=config.exposedports", "--clear=config.volume", "--clear=config.labels",
		"--config.user", User}
	for _, e := range Entrypoint {
		args = append(args, "--config.entrypoint", e)
	}
	for _, e := range Env {
		args = append(args, "--config.env", e)
	}
	for _, p := range Ports {
		args = append(args, "--config.exposedports", p)
	}
	args = append(args, "--config.volume", DataDir)
	labels := Labels(version, revision)
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--config.label", fmt.Sprintf("%s=%s", k, labels[k]))
	}
	if created != "" {
		args = append(args, "--created", created)
	}
	return args
}
