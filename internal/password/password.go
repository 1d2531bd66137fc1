// Package password generates the passwords pgtui hands out for new
// users, shared by the CLI and the cockpit so both give the same kind.
package password

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Generate returns 24 random bytes as 48 hex characters, the shape of
// the superuser password the seed shows.
func Generate() (string, error) {
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate a password: %w", err)
	}
	return hex.EncodeToString(buf), nil
}
