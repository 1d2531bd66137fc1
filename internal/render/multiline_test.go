package render

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// The seed's `checks list` OUTPUT cells, wrapped as flyctl printed them.
func TestWrapMatchesSeed(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"[✓] 20.68 GB (84.5%) free space on /data/\n[✓] load averages: 0.00 0.00 0.00\n[✓] memory: 0.0s waiting over the last 60s\n[✓] cpu: 0.4s waiting over the last 60s\n[✓] io: 0.0s waiting over the last 60s",
			[]string{"[✓] 20.68 GB (84.5%) free", "space on /data/ [✓] load", "averages: 0.00 0.00 0.00 [✓]", "memory: 0.0s waiting over the",
				"last 60s [✓] cpu: 0.4s waiting", "over the last 60s [✓] io: 0.0s", "waiting over the last 60s"}},
		{"[✓] 20.66 GB (84.4%) free space on /data/\n[✓] load averages: 0.31 0.37 0.32\n[✓] memory: 1.1s waiting over the last 60s\n[✓] cpu: 9.4s waiting over the last 60s\n[✓] io: 0.1s waiting over the last 60s",
			[]string{"[✓] 20.66 GB (84.4%) free", "space on /data/ [✓] load", "averages: 0.31 0.37 0.32 [✓]", "memory: 1.1s waiting over the",
				"last 60s [✓] cpu: 9.4s waiting", "over the last 60s [✓] io: 0.1s", "waiting over the last 60s"}},
		{"[✓] replication: currently leader\n[✓] connections: 31 used, 3 reserved, 100 max",
			[]string{"[✓] replication: currently", "leader [✓] connections: 31", "used, 3 reserved, 100 max"}},
		{"leader", []string{"leader"}},
		{"", nil},
		{"a-very-long-word-that-is-wider-than-thirty-columns x", []string{"a-very-long-word-that-is-wider-than-thirty-columns", "x"}},
	} {
		if got := Wrap(tc.text, CheckOutputWidth); !slices.Equal(got, tc.want) {
			t.Errorf("Wrap(%q)\n got %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

func TestMultilineTable(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{
		{"vm", "app", "critical", "[✗] system spent 8.5 of the last 10 seconds waiting for cpu\n[✓] load averages: 0.29 0.35 0.50"},
		{"role", "app", "passing", "leader"},
	}
	if err := MultilineTable(&b, "", rows, true, "ID", "Service", "State", "Output"); err != nil {
		t.Fatal(err)
	}
	want := `ID   SERVICE STATE    OUTPUT
vm   app     critical [✗] system spent 8.5 of the last 10 seconds waiting for cpu
                      [✓] load averages: 0.29 0.35 0.50

role app     passing  leader
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := MultilineTable(&b, "Title", [][]string{{"a", "x\ny"}, {"bb", "z"}}, false, "K", "V"); err != nil {
		t.Fatal(err)
	}
	if want := "Title\nK  V\na  x\n   y\nbb z\n"; b.String() != want {
		t.Fatalf("got %q want %q", b.String(), want)
	}
	if strings.Contains(b.String(), " \n") {
		t.Fatal("trailing spaces")
	}
}
