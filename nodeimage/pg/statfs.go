package pg

import (
	"fmt"
	"syscall"
)

func freeSpace(path string) (uint64, float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	total := st.Blocks * uint64(st.Bsize)
	if total == 0 {
		return free, 0, nil
	}
	return free, float64(free) / float64(total), nil
}
