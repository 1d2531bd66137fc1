package pg

import (
	"fmt"
	"strconv"
	"strings"
)

// ConnInfo is a libpq connection target.
type ConnInfo struct {
	Host     string
	Port     int
	User     string
	Password string
	DBName   string
	AppName  string
	SSLMode  string
}

// String renders keyword=value pairs, each value single-quoted.
func (c ConnInfo) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+quoteConnValue(v))
		}
	}
	add("host", c.Host)
	if c.Port != 0 {
		add("port", strconv.Itoa(c.Port))
	}
	add("user", c.User)
	add("password", c.Password)
	add("dbname", c.DBName)
	add("application_name", c.AppName)
	add("sslmode", c.SSLMode)
	return strings.Join(parts, " ")
}

// withoutPassword is String minus the password (for command lines).
func (c ConnInfo) withoutPassword() string {
	c.Password = ""
	return c.String()
}

func quoteConnValue(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `\'`)
	return "'" + v + "'"
}

// ParseLSN parses "16/B374D848".
func ParseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("bad LSN %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("bad LSN %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("bad LSN %q: %w", s, err)
	}
	return h<<32 | l, nil
}

// FormatLSN is the inverse of ParseLSN.
func FormatLSN(v uint64) string { return fmt.Sprintf("%X/%X", v>>32, v&0xFFFFFFFF) }
