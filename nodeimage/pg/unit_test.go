package pg

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const replUser = "repluser"

func TestPGConnInfoString(t *testing.T) {
	cases := []struct {
		in   ConnInfo
		want string
	}{
		{ConnInfo{}, ""},
		{ConnInfo{Host: "127.0.0.2", Port: 5433, User: "repluser"}, `host='127.0.0.2' port='5433' user='repluser'`},
		{ConnInfo{Host: "h", Password: `it's a \ pass`, DBName: "postgres", AppName: "n1", SSLMode: "disable"},
			`host='h' password='it\'s a \\ pass' dbname='postgres' application_name='n1' sslmode='disable'`},
		{ConnInfo{User: "a b=c"}, `user='a b=c'`},
	}
	for _, c := range cases {
		if got := c.in.String(); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.in, got, c.want)
		}
	}
	ci := ConnInfo{Host: "h", Password: "secret"}
	if strings.Contains(ci.withoutPassword(), "secret") {
		t.Errorf("withoutPassword leaks the password: %s", ci.withoutPassword())
	}
}

func TestPGLSN(t *testing.T) {
	for _, s := range []string{"0/0", "16/B374D848", "0/1", "FFFFFFFF/FFFFFFFF", "1/0"} {
		v, err := ParseLSN(s)
		if err != nil {
			t.Fatalf("ParseLSN(%q): %v", s, err)
		}
		if got := FormatLSN(v); got != s {
			t.Errorf("FormatLSN(ParseLSN(%q)) = %q", s, got)
		}
	}
	if v, _ := ParseLSN("16/B374D848"); v != 0x16B374D848 {
		t.Errorf("ParseLSN(16/B374D848) = %#x", v)
	}
	if v, _ := ParseLSN("ffffffff/ffffffff"); v != math.MaxUint64 {
		t.Errorf("lower case: %#x", v)
	}
	for _, v := range []uint64{0, 1, 0x16B374D848, 1 << 32, math.MaxUint64} {
		back, err := ParseLSN(FormatLSN(v))
		if err != nil || back != v {
			t.Errorf("round trip %#x: %#x %v", v, back, err)
		}
	}
	for _, bad := range []string{"", "16", "16/", "/1", "x/1", "1/100000000", "100000000/0", "1/2/3"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q): no error", bad)
		}
	}
}

func TestPGConfQuoting(t *testing.T) {
	for _, v := range []string{"", "plain", `it's`, `back\slash`, `\'`, `''\\`, "host='a' password='x\\'y'"} {
		q := quoteConf(v)
		if got := unquoteConf(q); got != v {
			t.Errorf("unquoteConf(quoteConf(%q)) = %q (quoted %s)", v, got, q)
		}
	}
}

func TestPGBinariesAndUser(t *testing.T) {
	bin, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"initdb", "postgres", "pg_basebackup", "pg_rewind", "pg_controldata"} {
		if !isFile(bin.Path(p)) {
			t.Errorf("%s missing in %s", p, bin.Dir)
		}
	}
	t.Setenv("PGTUI_PG_BINDIR", bin.Dir)
	if b2, err := FindBinaries(); err != nil || b2.Dir != bin.Dir {
		t.Errorf("with PGTUI_PG_BINDIR: %v %v", b2, err)
	}
	ru, err := SystemUser()
	if err != nil {
		t.Fatal(err)
	}
	if (os.Geteuid() == 0) != (ru != nil) || (ru != nil && (ru.Name != "postgres" || ru.UID == 0)) {
		t.Errorf("SystemUser as euid %d: %+v", os.Geteuid(), ru)
	}
}

func TestPGCheckReachable(t *testing.T) {
	root, err := os.MkdirTemp("/tmp", "pgt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	must(t, os.Chmod(root, 0o755))
	ru := &RunAs{Name: "nobody-test", UID: 65000, GID: 65000}
	if err := CheckReachable(filepath.Join(root, "a", "b", "data"), ru); err != nil {
		t.Errorf("open path: %v", err)
	}
	closed := filepath.Join(root, "closed")
	must(t, os.Mkdir(closed, 0o700))
	must(t, os.Chmod(closed, 0o700))
	err = CheckReachable(filepath.Join(closed, "x", "data"), ru)
	if err == nil || !strings.Contains(err.Error(), closed+" is not reachable by user nobody-test (mode 0700)") {
		t.Errorf("closed path: %v", err)
	}
	// dir itself may be closed: its creator chowns it.
	if err := CheckReachable(closed, ru); err != nil {
		t.Errorf("closed leaf: %v", err)
	}
	if err := CheckReachable(filepath.Join(closed, "x"), nil); err != nil {
		t.Errorf("nil RunAs: %v", err)
	}
	must(t, os.Chmod(closed, 0o711))
	if err := CheckReachable(filepath.Join(closed, "x", "data"), ru); err != nil {
		t.Errorf("0711: %v", err)
	}
}

// TestPGWriteConf checks the files WriteConf writes and what it asks for,
// and that postgres reads back awkward values exactly.
func TestPGWriteConf(t *testing.T) {
	f := newFixture(t)
	inst := New(f.config(t, "c"))
	dir := inst.Config().DataDir
	must(t, mkdirOwned(dir, 0o700, f.runAs))
	must(t, os.WriteFile(filepath.Join(dir, "postgresql.conf"), []byte("# initdb's\ninclude_if_exists = 'pgtui.conf'\nmax_connections = 50\n"), 0o600))
	conninfo := ConnInfo{Host: "127.0.0.9", Port: 5999, User: replUser, Password: `p'a\s"s w`, AppName: "c"}.String()
	s := Settings{ReplUser: replUser, PrimaryConnInfo: conninfo, PrimarySlot: "c",
		Params: map[string]string{"shared_buffers": "32MB", "application_name": `x'\y`}}
	steps := []struct {
		name string
		mod  func(*Settings)
		want ConfChange
	}{
		{"first write", func(*Settings) {}, NeedRestart},
		{"same again", func(*Settings) {}, Unchanged},
		{"sync names", func(s *Settings) { s.SyncStandbyNames = "n2" }, NeedReload},
		{"read only", func(s *Settings) { s.ReadOnly = true }, NeedReload},
		{"shared_buffers", func(s *Settings) { s.Params["shared_buffers"] = "64MB" }, NeedRestart},
		{"primary (no signal)", func(s *Settings) { s.PrimaryConnInfo = "" }, NeedRestart},
		{"replica again", func(s *Settings) { s.PrimaryConnInfo = conninfo }, NeedRestart},
		{"conninfo only", func(s *Settings) { s.PrimaryConnInfo = conninfo + " " }, NeedReload},
	}
	for _, st := range steps {
		st.mod(&s)
		got, err := inst.WriteConf(s)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
	checkConfFiles(t, inst, f.runAs)
	checkServerReads(t, inst, map[string]string{"primary_conninfo": conninfo + " ", "application_name": `x'\y`,
		"shared_buffers": "8192" /* 8kB pages */, "synchronous_standby_names": "n2", "default_transaction_read_only": "on",
		"max_connections": "50"})
	if _, err := inst.WriteConf(Settings{ReplUser: `bad"user`}); err == nil {
		t.Error("replication user with a double quote accepted")
	}
	if _, err := inst.WriteConf(Settings{Params: map[string]string{"work_mem = 1\nfsync": "off"}}); err == nil {
		t.Error("bad parameter name accepted")
	}
	if _, err := inst.WriteConf(Settings{PrimaryConnInfo: "a\nb"}); err == nil {
		t.Error("line break in a value accepted")
	}
}

func checkConfFiles(t *testing.T, inst *Instance, ru *RunAs) {
	t.Helper()
	dir := inst.Config().DataDir
	for _, name := range []string{"pgtui.conf", "pg_hba.conf", "postgresql.conf", "standby.signal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", name, fi.Mode().Perm())
		}
		if st := fi.Sys().(*syscall.Stat_t); ru != nil && (st.Uid != ru.UID || st.Gid != ru.GID) {
			t.Errorf("%s: owned by %d:%d", name, st.Uid, st.Gid)
		}
	}
	conf, _ := os.ReadFile(filepath.Join(dir, "postgresql.conf"))
	if n := strings.Count(string(conf), includeLine); n != 1 || !strings.HasSuffix(string(conf), includeLine+"\n") {
		t.Errorf("postgresql.conf include line count %d / not last:\n%s", n, conf)
	}
	hba, _ := os.ReadFile(filepath.Join(dir, "pg_hba.conf"))
	want := "local all all trust\nhost replication \"repluser\" 0.0.0.0/0 scram-sha-256\n" +
		"host replication \"repluser\" ::/0 scram-sha-256\nhost all \"repluser\" all reject\n" +
		"host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n"
	if !strings.HasSuffix(string(hba), want) {
		t.Errorf("pg_hba.conf:\n%s", hba)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*tmp*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

// checkServerReads asks `postgres -C` what it makes of the files.
func checkServerReads(t *testing.T, inst *Instance, want map[string]string) {
	t.Helper()
	for name, v := range want {
		cmd := command(inst.Config().RunAs, "/tmp", inst.Config().Bin.Path("postgres"), "-D", inst.Config().DataDir, "-C", name)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("postgres -C %s: %v\n%s", name, err, out)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != v {
			t.Errorf("postgres reads %s as %q, want %q", name, got, v)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
