package backend

import (
	"strings"
	"testing"
)

// FuzzValidateName: accepted names are DNS labels; nothing panics; errors
// are one line.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"md-postgres-500", "a", "", "-a", "a-", "Abc", "a_b", strings.Repeat("a", 64), "ü", "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q", name)
			}
			return
		}
		if len(name) == 0 || len(name) > 63 || name[0] < 'a' || name[0] > 'z' || strings.HasSuffix(name, "-") {
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Fatalf("accepted %q with %q", name, r)
			}
		}
	})
}

// FuzzCreateRequest: Validate never panics and accepts only in-range values.
func FuzzCreateRequest(f *testing.F) {
	f.Add("pg", "personal", "iad", "shared-cpu-1x", 10, 2)
	f.Add("x", "", "zzz", "huge", 0, 0)
	f.Add("ok", "o", "fra", "dedicated-cpu-8x", 500, 9)
	f.Fuzz(func(t *testing.T, name, org, region, size string, vol, n int) {
		r := CreateRequest{Name: name, Org: org, Region: region, VMSize: size, VolumeGB: vol, InitialClusterSize: n}
		if r.Validate() != nil {
			return
		}
		if vol < 1 || vol > 500 || n < 1 || n > 9 {
			t.Fatalf("accepted %+v", r)
		}
		if _, err := LookupRegion(region); err != nil {
			t.Fatalf("accepted region %q", region)
		}
	})
}

// FuzzValidateIdentifier: accepted user/database names are plain.
func FuzzValidateIdentifier(f *testing.F) {
	for _, s := range []string{"app", "my_app", "x-1", `a"b`, "a;drop", "", "_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateIdentifier(s) == nil && strings.ContainsAny(s, "\"';\\ \x00") {
			t.Fatalf("accepted %q", s)
		}
	})
}
