// Package api is the local agent's wire contract, shared by the agent
// (backend/agent) and its client (backend/local) so the client needs
// none of the agent's code: the socket's path, the request and response
// types that are not backend types, and errors that keep their kind
// across HTTP (a client matches errors.Is(err, api.ErrNotFound), never
// the message's text).
package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"path/filepath"
	"time"
)

// SocketPath is the agent's API socket under PGTUI_HOME.
func SocketPath(home string) string { return filepath.Join(home, "agent.sock") }

// AgentStatus is `pgtui agent status`.
type AgentStatus struct {
	PID      int      `json:"pid"`
	Home     string   `json:"home"`
	Etcd     []string `json:"etcd"`
	DNS      string   `json:"dns"`
	Clusters int      `json:"clusters"`
	Machines int      `json:"machines"`
	Running  int      `json:"running"`
}

// PeerRequest creates a WireGuard peer.
type PeerRequest struct {
	Name   string `json:"name"`
	Org    string `json:"org"`
	Region string `json:"region"`
}

// Peer is a WireGuard peer of the gateway (tunnel.Peer on the wire; the
// cockpit's panes read it without importing the tunnel).
type Peer struct {
	Name      string     `json:"name"`
	Org       string     `json:"org"`
	Region    string     `json:"region"`
	PublicKey string     `json:"public_key"` // base64, as wg-quick writes it
	Address   netip.Addr `json:"address"`
	Created   time.Time  `json:"created"`
}

// PeerStatus is a peer with its last handshake and traffic
// (tunnel.PeerStatus on the wire).
type PeerStatus struct {
	Peer
	Endpoint      string    `json:"endpoint,omitempty"`
	LastHandshake time.Time `json:"last_handshake,omitzero"` // zero: never
	RxBytes       int64     `json:"rx_bytes"`
	TxBytes       int64     `json:"tx_bytes"`
}

// NewPeer is a created peer with its configuration (shown once).
type NewPeer struct {
	Peer   Peer   `json:"peer"`
	Config string `json:"config"` // wg-quick format
}

// ConnectInfo is how the local user reaches a cluster as its superuser.
// The API socket is the owner's only, as is the secrets file it reads.
type ConnectInfo struct {
	Cluster  string `json:"cluster"`
	Org      string `json:"org"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	Database string `json:"database"`
	URL      string `json:"url"`
}

// WireGuard is the gateway's peers as the agent's client offers them
// (`pgtui wireguard create|list|remove`); the cockpit's peers pane uses it.
type WireGuard interface {
	ListPeers(ctx context.Context) ([]PeerStatus, error)
	CreatePeer(ctx context.Context, req PeerRequest) (*NewPeer, error)
	RemovePeer(ctx context.Context, name string) error
}

// The kinds of error a client can match with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrBadRequest = errors.New("bad request")
	ErrConflict   = errors.New("conflict")
)

// Codes name the kinds on the wire.
const (
	CodeNotFound   = "not_found"
	CodeBadRequest = "bad_request"
	CodeConflict   = "conflict"
)

// ErrorBody is how an error travels in a reply.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// CodeFor is the code of an HTTP status ("" for other failures).
func CodeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusConflict:
		return CodeConflict
	}
	return ""
}

// Error is an agent's error as the client sees it: the agent's one-line
// message and its kind.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is matches the kind: errors.Is(err, ErrNotFound).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == CodeNotFound
	case ErrBadRequest:
		return e.Code == CodeBadRequest
	case ErrConflict:
		return e.Code == CodeConflict
	}
	return false
}

// FromReply builds the client's error from a failed reply's status and
// body; a body without a code (an older agent) is classed by status.
func FromReply(status int, body ErrorBody) *Error {
	code := body.Code
	if code == "" {
		code = CodeFor(status)
	}
	return &Error{Status: status, Code: code, Message: body.Error}
}
