package password

import (
	"regexp"
	"testing"
)

func TestGenerate(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(a) || a == b {
		t.Fatalf("passwords %q, %q", a, b)
	}
}
