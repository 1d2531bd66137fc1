// Command mkimage is `make image`: it builds the node image as an OCI
// archive with no registry (see package internal/image) and prints its
// size and what dominates it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/image"
)

func main() {
	var o image.Options
	flag.StringVar(&o.Out, "out", "", "archive to write (default bin/pgtui-node.oci.tar)")
	flag.StringVar(&o.Version, "version", "", "image version (default git describe --always --dirty)")
	flag.StringVar(&o.Revision, "revision", "", "source revision (default git rev-parse HEAD)")
	flag.StringVar(&o.CacheDir, "cache", "", "base cache directory (default $PGTUI_IMAGE_CACHE or "+image.DefaultCacheDir+")")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := image.Build(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	base := "made now"
	if res.BaseCached {
		base = "from the cache"
	}
	fmt.Printf("image: %s (localhost/%s:%s, ID %s)\n", res.Archive, image.Name, res.Tag, strings.TrimPrefix(res.ImageID, "sha256:")[:12])
	fmt.Printf("image: size %s unpacked, %s as the archive (layers gzip-compressed); base %s %s; built in %s\n",
		mb(res.UnpackedBytes), mb(res.ArchiveBytes), res.BaseKey, base, time.Since(start).Round(100*time.Millisecond))
	// What dominates the size: the largest files, and the largest
	// directories among those holding no other listed directory.
	files := []image.DirUsage{{Path: image.BinaryPath, Bytes: res.UnpackedBytes - topLevel(res.Usage), File: true}}
	var dirs []image.DirUsage
	for _, u := range res.Usage {
		if u.File {
			files = append(files, u)
			continue
		}
		leaf := true
		for _, v := range res.Usage {
			if !v.File && strings.HasPrefix(v.Path, u.Path+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			dirs = append(dirs, u)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Bytes > files[j].Bytes })
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Bytes > dirs[j].Bytes })
	list := func(title string, us []image.DirUsage) {
		var parts []string
		for i, u := range us {
			if i == 8 || u.Bytes < 2<<20 {
				break
			}
			parts = append(parts, u.Path+" "+mb(u.Bytes))
		}
		fmt.Printf("image: %s: %s\n", title, strings.Join(parts, ", "))
	}
	list("largest directories (du)", dirs)
	list("largest files", files)
}

func topLevel(us []image.DirUsage) int64 {
	var n int64
	for _, u := range us {
		if strings.Count(u.Path, "/") == 1 {
			n += u.Bytes
		}
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
