package nodeclient

import (
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// ParseLogLine turns a line of a machine's log file into a LogLine. The
// node writes slog text (`time=… level=INFO msg="…" proc=keeper …`) and
// passes postgres's own lines through as `proc=postgres node=… <ts> [pid] LOG:  …`.
func ParseLogLine(line string) backend.LogLine {
	if rest, ok := strings.CutPrefix(line, "proc=postgres "); ok {
		return parsePostgresLine(rest)
	}
	kv, order := parseKV(line)
	l := backend.LogLine{Proc: kv["proc"], Level: strings.ToLower(kv["level"]), Message: kv["msg"], Machine: kv["node"]}
	if t, err := time.Parse(time.RFC3339Nano, kv["time"]); err == nil {
		l.Time = t.UTC()
	}
	var extra []string
	for _, k := range order {
		switch k {
		case "time", "level", "msg", "proc", "node":
		default:
			extra = append(extra, k+"="+kv[k])
		}
	}
	if len(extra) > 0 {
		l.Message += " " + strings.Join(extra, " ")
	}
	if l.Proc == "" {
		l.Proc = "node"
	}
	if l.Message == "" && l.Time.IsZero() {
		l.Message, l.Level = line, "info"
	}
	return l
}

func parsePostgresLine(rest string) backend.LogLine {
	l := backend.LogLine{Proc: "postgres", Level: "info"}
	if node, r, ok := strings.Cut(rest, " "); ok && strings.HasPrefix(node, "node=") {
		l.Machine, rest = strings.TrimPrefix(node, "node="), r
	}
	// "2026-11-25 08:28:26.969 UTC [30678] LOG:  message"
	if len(rest) > 27 {
		if t, err := time.Parse("2006-01-02 15:04:05.000 MST", rest[:27]); err == nil {
			l.Time = t.UTC()
			rest = strings.TrimSpace(rest[27:])
		}
	}
	if i := strings.Index(rest, "] "); strings.HasPrefix(rest, "[") && i > 0 {
		rest = rest[i+2:]
	}
	if sev, msg, ok := strings.Cut(rest, ":  "); ok && len(sev) <= 10 {
		l.Level, rest = pgLevel(sev), msg
	}
	l.Message = rest
	return l
}

func pgLevel(sev string) string {
	switch sev {
	case "ERROR", "FATAL", "PANIC":
		return "error"
	case "WARNING":
		return "warn"
	case "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5":
		return "debug"
	}
	return "info"
}

// parseKV splits slog's text format, honouring quoted values.
func parseKV(line string) (map[string]string, []string) {
	kv := map[string]string{}
	var order []string
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			break
		}
		key := line[:eq]
		line = line[eq+1:]
		var val string
		if strings.HasPrefix(line, `"`) {
			end := 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			val = unquote(line[:min(end+1, len(line))])
			line = line[min(end+1, len(line)):]
		} else {
			sp := strings.IndexByte(line, ' ')
			if sp < 0 {
				sp = len(line)
			}
			val, line = line[:sp], line[sp:]
		}
		kv[key] = val
		order = append(order, key)
	}
	return kv, order
}

func unquote(s string) string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
	r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\t`, "\t")
	return r.Replace(s)
}
