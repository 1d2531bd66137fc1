package pg

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Settings is everything WriteConf writes; it is complete each time.
type Settings struct {
	Params           map[string]string // extra GUCs, e.g. shared_buffers
	SyncStandbyNames string            // synchronous_standby_names ('' = async)
	PrimaryConnInfo  string            // non-empty: a replica (standby.signal)
	PrimarySlot      string            // primary_slot_name when a replica
	ReplUser         string            // the only role allowed to replicate
	ReadOnly         bool              // default_transaction_read_only
	SSL              bool              // ssl with the data dir's certificate (see EnsureCert)
}

// ConfChange says what a running postgres needs for new settings to apply.
type ConfChange int

// Unchanged: nothing to do; NeedReload: Reload; NeedRestart: Stop+Start.
const (
	Unchanged ConfChange = iota
	NeedReload
	NeedRestart
)

func (c ConfChange) String() string {
	switch c {
	case Unchanged:
		return "unchanged"
	case NeedReload:
		return "reload"
	case NeedRestart:
		return "restart"
	}
	return fmt.Sprintf("ConfChange(%d)", int(c))
}

// needsRestart lists the settings we may change that apply only at start.
func needsRestart(name string) bool {
	switch name {
	case "listen_addresses", "port", "unix_socket_directories", "shared_buffers",
		"max_connections", "wal_level", "max_wal_senders", "max_replication_slots", "archive_mode":
		return true
	}
	return false
}

// validGUCName accepts what postgresql.conf accepts unquoted as a name.
func validGUCName(s string) bool {
	for k, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (k == 0 || !(r == '.' || (r >= '0' && r <= '9'))) {
			return false
		}
	}
	return s != ""
}

func (i *Instance) params(s Settings) (map[string]string, error) {
	c := i.cfg
	p := map[string]string{
		"listen_addresses":              c.ListenHost,
		"port":                          fmt.Sprint(c.Port),
		"unix_socket_directories":       c.SocketDir,
		"unix_socket_permissions":       "0700",
		"password_encryption":           "scram-sha-256",
		"wal_level":                     "replica",
		"max_wal_senders":               "10",
		"max_replication_slots":         "10",
		"hot_standby":                   "on",
		"hot_standby_feedback":          "on",
		"wal_log_hints":                 "on",
		"wal_keep_size":                 "256MB",
		"wal_receiver_status_interval":  "1s",
		"wal_receiver_timeout":          "10s",
		"wal_sender_timeout":            "10s",
		"wal_retrieve_retry_interval":   "500ms",
		"recovery_target_timeline":      "latest",
		"logging_collector":             "off",
		"log_destination":               "stderr",
		"log_line_prefix":               "%m [%p] ",
		"synchronous_standby_names":     s.SyncStandbyNames,
		"default_transaction_read_only": onOff(s.ReadOnly),
		"primary_conninfo":              s.PrimaryConnInfo,
		"primary_slot_name":             s.PrimarySlot,
		"ssl":                           onOff(s.SSL),
	}
	if s.SSL {
		p["ssl_cert_file"], p["ssl_key_file"] = CertFile, KeyFile
	}
	for k, v := range s.Params {
		if !validGUCName(k) {
			return nil, fmt.Errorf("setting name %q is not valid", k)
		}
		p[k] = v
	}
	for k, v := range p {
		if strings.ContainsAny(v, "\x00\r\n") {
			return nil, fmt.Errorf("setting %s: value holds a line break or NUL", k)
		}
	}
	return p, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// WriteConf writes pgtui.conf, pg_hba.conf and standby.signal (all 0600,
// owned by RunAs, replaced atomically), makes postgresql.conf include
// pgtui.conf last, and reports what a running postgres needs for the
// files to take effect. A restart reported once is reported again until
// postgres has been started anew.
func (i *Instance) WriteConf(s Settings) (ConfChange, error) {
	change, err := i.writeConf(s)
	if err != nil {
		return change, fmt.Errorf("write config in %s: %w", i.cfg.DataDir, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if change == NeedRestart {
		i.pendingRestart = true
	} else if i.pendingRestart && i.proc != nil && !isClosed(i.done) {
		change = NeedRestart
	}
	return change, nil
}

func (i *Instance) writeConf(s Settings) (ConfChange, error) {
	params, err := i.params(s)
	if err != nil {
		return Unchanged, err
	}
	hba, err := renderHBA(s.ReplUser, s.SSL)
	if err != nil {
		return Unchanged, err
	}
	conf := renderConf(params)
	dir := i.cfg.DataDir
	oldConf, _ := os.ReadFile(filepath.Join(dir, "pgtui.conf"))
	oldHBA, _ := os.ReadFile(filepath.Join(dir, "pg_hba.conf"))
	change := Unchanged
	if !bytes.Equal(oldConf, conf) || !bytes.Equal(oldHBA, hba) {
		change = NeedReload
	}
	old := parseConf(oldConf)
	for _, m := range []map[string]string{old, params} {
		for k := range m {
			if needsRestart(k) && old[k] != params[k] {
				change = NeedRestart
			}
		}
	}
	if !bytes.Equal(oldConf, conf) {
		if err := i.writeFile("pgtui.conf", conf); err != nil {
			return change, err
		}
	}
	if !bytes.Equal(oldHBA, hba) {
		if err := i.writeFile("pg_hba.conf", hba); err != nil {
			return change, err
		}
	}
	added, err := i.ensureInclude()
	if err != nil {
		return change, err
	}
	flipped, err := i.setStandbySignal(s.PrimaryConnInfo != "")
	if err != nil {
		return change, err
	}
	if added || flipped {
		change = NeedRestart
	}
	return change, nil
}

// setStandbySignal creates or removes standby.signal; true if it changed.
func (i *Instance) setStandbySignal(want bool) (bool, error) {
	signal := filepath.Join(i.cfg.DataDir, "standby.signal")
	_, err := os.Stat(signal)
	had := err == nil
	switch {
	case want && !had:
		return true, i.writeFile("standby.signal", nil)
	case !want && had:
		if err := os.Remove(signal); err != nil {
			return true, fmt.Errorf("remove standby.signal: %w", err)
		}
		return true, nil
	}
	return false, nil
}

// renderConf writes each value as a quoted string: in postgresql.conf a
// quoted value takes a backslash as an escape and a doubled quote as a quote.
func renderConf(p map[string]string) []byte {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("# Written by pgtui's keeper on every change. Do not edit.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, quoteConf(p[k]))
	}
	return b.Bytes()
}

func quoteConf(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "'" + strings.ReplaceAll(v, `'`, `''`) + "'"
}

// unquoteConf inverts quoteConf (and reads any other quoted value the way
// postgres would, bar the \n-style escapes we never write).
func unquoteConf(q string) string {
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return q
	}
	q = q[1 : len(q)-1]
	var b strings.Builder
	for k := 0; k < len(q); k++ {
		switch {
		case q[k] == '\\' && k+1 < len(q):
			k++
		case q[k] == '\'' && k+1 < len(q) && q[k+1] == '\'':
			k++
		}
		b.WriteByte(q[k])
	}
	return b.String()
}

// parseConf reads back what renderConf wrote.
func parseConf(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		out[k] = unquoteConf(v)
	}
	return out
}

// renderHBA: local socket (a 0700 directory) trusted; over TCP, the
// replication user may only replicate and everyone uses scram-sha-256.
// With TLS on, TCP connections must use it (hostssl): a client that offers
// no TLS matches no line and is refused.
func renderHBA(replUser string, ssl bool) ([]byte, error) {
	host := "host"
	if ssl {
		host = "hostssl"
	}
	var b bytes.Buffer
	b.WriteString("# Written by pgtui's keeper. Do not edit.\n")
	b.WriteString("local all all trust\n")
	if replUser != "" {
		if strings.ContainsAny(replUser, "\"\x00\r\n") {
			return nil, errors.New("replication user name holds a double quote or line break")
		}
		q := `"` + replUser + `"`
		fmt.Fprintf(&b, "%s replication %s 0.0.0.0/0 scram-sha-256\n", host, q)
		fmt.Fprintf(&b, "%s replication %s ::/0 scram-sha-256\n", host, q)
		fmt.Fprintf(&b, "host all %s all reject\n", q)
	}
	fmt.Fprintf(&b, "%s all all 0.0.0.0/0 scram-sha-256\n", host)
	fmt.Fprintf(&b, "%s all all ::/0 scram-sha-256\n", host)
	return b.Bytes(), nil
}

const includeLine = "include_if_exists = 'pgtui.conf'"

// ensureInclude makes the include of pgtui.conf the last line of
// postgresql.conf, exactly once; true if the file changed.
func (i *Instance) ensureInclude() (bool, error) {
	path := filepath.Join(i.cfg.DataDir, "postgresql.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read postgresql.conf: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	count := 0
	var keep []string
	for _, l := range lines {
		if strings.TrimSpace(l) == includeLine {
			count++
			continue
		}
		keep = append(keep, l)
	}
	if count == 1 && lines[len(lines)-1] == includeLine {
		return false, nil
	}
	keep = append(keep, includeLine)
	return true, i.writeFile("postgresql.conf", []byte(strings.Join(keep, "\n")+"\n"))
}

// writeFile writes a file in the data dir atomically, 0600, owned by RunAs.
func (i *Instance) writeFile(name string, data []byte) error {
	path := filepath.Join(i.cfg.DataDir, name)
	tmp := path + ".pgtui-tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = chown(tmp, i.cfg.RunAs)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
