package agent

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pgtui/pgtui/nodeimage/pg"
)

// Each cluster has its own CA beside its secrets: ca.crt (public, what
// clients verify against) and ca.key (0600, passed to its nodes, which
// sign their own server certificates with it).
func caPath(home, cluster string) string {
	return filepath.Join(home, "clusters", cluster, "ca.crt")
}

func caKeyPath(home, cluster string) string {
	return filepath.Join(home, "clusters", cluster, "ca.key")
}

// ensureCA creates the cluster's CA if it has none yet (a new cluster, or
// one made by a pgtui that served self-signed certificates).
func ensureCA(home, cluster string) error {
	if _, err := os.Stat(caKeyPath(home, cluster)); err == nil {
		if _, err := os.Stat(caPath(home, cluster)); err == nil {
			return nil
		}
	}
	crt, key, err := pg.NewCA(cluster)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(caPath(home, cluster)), 0o700); err != nil {
		return fmt.Errorf("CA of %s: %w", cluster, err)
	}
	if err := writeAtomic(caKeyPath(home, cluster), key, 0o600, false); err != nil {
		return fmt.Errorf("CA key of %s: %w", cluster, err)
	}
	if err := writeAtomic(caPath(home, cluster), crt, 0o644, false); err != nil {
		return fmt.Errorf("CA of %s: %w", cluster, err)
	}
	return nil
}

// readCA is the cluster's CA certificate (PEM); empty if it has none.
func readCA(home, cluster string) (string, error) {
	b, err := os.ReadFile(caPath(home, cluster))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("CA of %s: %w", cluster, err)
	}
	return string(b), nil
}

// tlsQuery is the query of a URL that verifies the cluster's certificate
// and its host name (every member's certificate names <cluster>.internal,
// its region and vm names, and every member's address).
func tlsQuery(home, cluster string) url.Values {
	return url.Values{"sslmode": {"verify-full"}, "sslrootcert": {caPath(home, cluster)}}
}
