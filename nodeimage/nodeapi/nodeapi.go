// Package nodeapi is the contract of a node's health port (:5500) beyond
// GET /health: the bearer token that guards /checks and /logs, and the
// wire form of a log line. The node serves it; the platforms' clients
// (backend/agent, backend/external) call it.
package nodeapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// tokenContext separates this use of the admin secret from any other.
const tokenContext = "pgtui-node-api:"

// Token is the bearer token of a cluster's node API:
// hex(HMAC-SHA256(admin password, "pgtui-node-api:"+cluster)). Whoever holds
// the cluster's admin secret can derive it; the secret itself never
// travels.
func Token(cluster, adminPassword string) string {
	m := hmac.New(sha256.New, []byte(adminPassword))
	m.Write([]byte(tokenContext + cluster))
	return hex.EncodeToString(m.Sum(nil))
}

// SetAuth adds the token to a request.
func SetAuth(r *http.Request, token string) {
	r.Header.Set("Authorization", "Bearer "+token)
}

// Authorized reports whether r carries token, compared in constant time.
// An empty token authorizes nothing.
func Authorized(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// Require wraps h: a request without the token gets 401 and a JSON error.
func Require(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Authorized(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pgtui-node"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"missing or wrong token: derive it from the cluster's admin secret"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// LogEntry is one line of GET /logs (newline-delimited JSON): the line as
// the node wrote it and when the node's ring received it.
type LogEntry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Line string    `json:"line"`
}
