package agent

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pgtui/pgtui/backend"
)

// FuzzDecodeState: a corrupted or truncated state file is refused with a
// one-line error naming the file, never a panic.
func FuzzDecodeState(f *testing.F) {
	s := newState()
	s.Clusters["pg"] = &Cluster{Name: "pg", Machines: []*Machine{{ID: "6b97fa06", IP: "127.0.1.2", Volume: "/v/6b97fa06"}}}
	good, _ := json.Marshal(s)
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`{"version":7}`))
	f.Add([]byte{})
	f.Add([]byte(`{"version":1,"clusters":{"a":null}}`))
	f.Add([]byte(`{"version":1,"apps":{"x":{"attachments":{"pg":null}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b, "/x/state.json")
		if err != nil {
			if !strings.Contains(err.Error(), "/x/state.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if st.Clusters == nil || st.Apps == nil {
			t.Fatal("nil maps after decode")
		}
	})
}

// FuzzAPIDecode: request bodies are decoded strictly; garbage is a 400,
// never a panic.
func FuzzAPIDecode(f *testing.F) {
	f.Add(`{"name":"pg","region":"iad","vm_size":"shared-cpu-1x","volume_gb":1,"initial_cluster_size":1}`)
	f.Add(`{"name":1}`)
	f.Add(`{"name":"a"}{"x":1}`)
	f.Add(`{"unknown":true}`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/v1/clusters", bytes.NewBufferString(body))
		var req backend.CreateRequest
		if err := decode(r, &req); err != nil {
			var ae apiError
			if !asAPIError(err, &ae) || ae.status != 400 {
				t.Fatalf("decode error is not a 400: %v", err)
			}
		}
	})
}
