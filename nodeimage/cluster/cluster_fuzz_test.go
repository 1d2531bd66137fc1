package cluster

import (
	"reflect"
	"testing"
)

// FuzzDecode: corrupted or truncated cluster data gives an error, never a
// panic; what decodes re-encodes to the same data.
func FuzzDecode(f *testing.F) {
	good := (&Data{FormatVersion: FormatVersion, Generation: 3, Leader: "a",
		Members: map[string]*Member{"a": {Name: "a", Target: RoleLeader, Generation: 3}}, SyncSafe: []string{"b"}}).Encode()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"format_version":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(d.Encode())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("round trip changed data")
		}
		_ = d.Clone()
	})
}
