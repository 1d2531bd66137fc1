package tunnel

import (
	"bufio"
	"strconv"
	"strings"
	"time"
)

// PeerStatus is a peer with what the device knows of it.
type PeerStatus struct {
	Peer
	Endpoint      string    `json:"endpoint,omitempty"`      // where its packets came from
	LastHandshake time.Time `json:"last_handshake,omitzero"` // zero: never
	RxBytes       int64     `json:"rx_bytes"`                // received from the peer
	TxBytes       int64     `json:"tx_bytes"`                // sent to the peer
}

// peerStats is one peer's part of a UAPI get.
type peerStats struct {
	Endpoint      string
	LastHandshake time.Time
	RxBytes       int64
	TxBytes       int64
}

// parseStats reads IpcGet's output into stats by hex public key.
func parseStats(text string) map[string]peerStats {
	out := map[string]peerStats{}
	var key string
	var cur peerStats
	var sec, nsec int64
	flush := func() {
		if key == "" {
			return
		}
		if sec != 0 || nsec != 0 {
			cur.LastHandshake = time.Unix(sec, nsec).UTC()
		}
		out[key] = cur
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "public_key":
			flush()
			key, cur, sec, nsec = v, peerStats{}, 0, 0
		case "endpoint":
			cur.Endpoint = v
		case "last_handshake_time_sec":
			sec = n
		case "last_handshake_time_nsec":
			nsec = n
		case "rx_bytes":
			cur.RxBytes = n
		case "tx_bytes":
			cur.TxBytes = n
		}
	}
	flush()
	return out
}
