package pg

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Settings is everything WriteConf writes; it is complete each time.
type Settings struct {
	Params           map[string]string
	SyncStandbyNames string
	PrimaryConnInfo  string // non-empty: a replica
	PrimarySlot      string
	ReplUser         string
	ReadOnly         bool
}

// restartParams need a postgres restart to change.
var restartParams = map[string]bool{
	"listen_addresses": true, "port": true, "unix_socket_directories": true, "shared_buffers": true,
	"max_connections": true, "wal_level": true, "max_wal_senders": true, "max_replication_slots": true,
}

func (i *Instance) params(s Settings) map[string]string {
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
	}
	for k, v := range s.Params {
		p[k] = v
	}
	return p
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ConfChange says what a running postgres needs for new settings to apply.
type ConfChange int

// Unchanged: nothing to do; NeedReload: SIGHUP; NeedRestart: a restart.
const (
	Unchanged ConfChange = iota
	NeedReload
	NeedRestart
)

// WriteConf writes pgtui.conf, pg_hba.conf and standby.signal and reports
// what postgres needs for them to take effect.
func (i *Instance) WriteConf(s Settings) (ConfChange, error) {
	dir := i.cfg.DataDir
	params := i.params(s)
	conf, hba := renderConf(params), renderHBA(s.ReplUser)
	oldConf, _ := os.ReadFile(filepath.Join(dir, "pgtui.conf"))
	oldHBA, _ := os.ReadFile(filepath.Join(dir, "pg_hba.conf"))
	change := Unchanged
	if !bytes.Equal(oldConf, conf) || !bytes.Equal(oldHBA, hba) {
		change = NeedReload
	}
	old := readConf(filepath.Join(dir, "pgtui.conf"))
	for k := range restartParams {
		if old[k] != params[k] {
			change = NeedRestart
		}
	}
	if change != Unchanged {
		if err := i.writeFile("pgtui.conf", conf); err != nil {
			return change, err
		}
		if err := i.writeFile("pg_hba.conf", hba); err != nil {
			return change, err
		}
	}
	if err := i.ensureInclude(); err != nil {
		return change, err
	}
	signal := filepath.Join(dir, "standby.signal")
	_, err := os.Stat(signal)
	had := err == nil
	want := s.PrimaryConnInfo != ""
	switch {
	case want && !had:
		if err := i.writeFile("standby.signal", nil); err != nil {
			return change, err
		}
		change = NeedRestart
	case !want && had:
		if err := os.Remove(signal); err != nil {
			return change, fmt.Errorf("remove standby.signal: %w", err)
		}
		change = NeedRestart
	}
	return change, nil
}

func renderConf(p map[string]string) []byte {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("# Written by pgtui's keeper on every change. Do not edit.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(p[k], "'", "''"))
	}
	return b.Bytes()
}

// readConf reads back what renderConf wrote.
func readConf(path string) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
		out[k] = strings.ReplaceAll(v, "''", "'")
	}
	return out
}

func renderHBA(replUser string) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by pgtui's keeper. Local socket (0700 directory): trust.\n")
	b.WriteString("local all all trust\n")
	if replUser != "" {
		q := `"` + strings.ReplaceAll(replUser, `"`, `""`) + `"`
		fmt.Fprintf(&b, "host replication %s 0.0.0.0/0 scram-sha-256\n", q)
		fmt.Fprintf(&b, "host replication %s ::/0 scram-sha-256\n", q)
		// The replication user may only replicate.
		fmt.Fprintf(&b, "host all %s 0.0.0.0/0 reject\n", q)
		fmt.Fprintf(&b, "host all %s ::/0 reject\n", q)
	}
	b.WriteString("host all all 0.0.0.0/0 scram-sha-256\n")
	b.WriteString("host all all ::/0 scram-sha-256\n")
	return b.Bytes()
}

const includeLine = "include_if_exists = 'pgtui.conf'"

func (i *Instance) ensureInclude() error {
	path := filepath.Join(i.cfg.DataDir, "postgresql.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read postgresql.conf: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == includeLine {
		return nil
	}
	var keep []string
	for _, l := range lines {
		if l != includeLine {
			keep = append(keep, l)
		}
	}
	keep = append(keep, includeLine)
	return i.writeFile("postgresql.conf", []byte(strings.Join(keep, "\n")+"\n"))
}

// writeFile writes a file in the data dir atomically, 0600, owned by RunAs.
func (i *Instance) writeFile(name string, data []byte) error {
	path := filepath.Join(i.cfg.DataDir, name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := chown(tmp, i.cfg.RunAs); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
