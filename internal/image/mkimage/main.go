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
	fmt.Printf("image: largest parts of the root:")
	n := 0
	for _, u := range res.Usage {
		if strings.Count(u.Path, "/") < 3 || u.Bytes < 4<<20 {
			continue
		}
		fmt.Printf(" %s %s,", u.Path, mb(u.Bytes))
		if n++; n == 8 {
			break
		}
	}
	fmt.Printf(" %s %s (static binary)\n", image.BinaryPath, mb(res.UnpackedBytes-topLevel(res.Usage)))
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
