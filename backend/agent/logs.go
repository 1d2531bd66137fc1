package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// maxLogBytes bounds a machine's log file; the previous one is kept as .1.
const maxLogBytes = 10 << 20

func logPath(home, id string) string { return filepath.Join(home, "logs", id+".log") }

// openLog opens a machine's log for appending, rotating it when too big.
func openLog(home, id string) (*os.File, error) {
	path := logPath(home, id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogBytes {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	return f, nil
}

func closeLog(cmd *exec.Cmd) {
	if f, ok := cmd.Stdout.(*os.File); ok {
		f.Close()
	}
}
