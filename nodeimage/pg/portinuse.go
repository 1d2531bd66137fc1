package pg

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrPortInUse: postgres could not bind its address because another
// socket holds it. Nothing is wrong with the data directory, so callers
// must not treat it as a broken one.
var ErrPortInUse = errors.New("postgres port in use")

// bindFailed reports whether postgres's output says it could not open
// any of its TCP sockets.
func bindFailed(out string) bool {
	return strings.Contains(out, "could not create any TCP/IP sockets") ||
		strings.Contains(out, "Address already in use")
}

// portHolders describes the TCP sockets bound to host:port (or to the
// wildcard address on port) and the processes that own them, so the
// error says what to stop. Best effort: empty when /proc says nothing.
func portHolders(host string, port int) string {
	want := net.ParseIP(host)
	inodes := map[string]string{} // socket inode -> "state addr"
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for inode, desc := range boundSockets(f, want, port) {
			inodes[inode] = desc
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	owners := socketOwners(inodes)
	var parts []string
	for inode, desc := range inodes {
		if o := owners[inode]; o != "" {
			desc += " held by " + o
		}
		parts = append(parts, desc)
	}
	return strings.Join(parts, "; ")
}

var tcpStates = map[string]string{"01": "ESTABLISHED", "06": "TIME_WAIT", "0A": "LISTEN", "08": "CLOSE_WAIT"}

// boundSockets reads one /proc/net/tcp* table for sockets on port whose
// local address is want or a wildcard, keyed by inode.
func boundSockets(path string, want net.IP, port int) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		ip, p, ok := parseProcAddr(fs[1])
		if !ok || p != port || !(ip.Equal(want) || ip.IsUnspecified()) {
			continue
		}
		state := tcpStates[fs[3]]
		if state == "" {
			state = "state " + fs[3]
		}
		out[fs[9]] = fmt.Sprintf("%s %s", state, net.JoinHostPort(ip.String(), strconv.Itoa(p)))
	}
	return out
}

// parseProcAddr decodes "0100007F:1F90" (IPv4 or IPv6, in host-order
// 32-bit words) as /proc/net/tcp* prints it.
func parseProcAddr(s string) (net.IP, int, bool) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	b, err := hex.DecodeString(a)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, 0, false
	}
	for w := 0; w < len(b); w += 4 { // each 32-bit word is little-endian
		b[w], b[w+1], b[w+2], b[w+3] = b[w+3], b[w+2], b[w+1], b[w]
	}
	return net.IP(b), int(port), true
}

// socketOwners maps socket inodes to "pid N (comm)" by scanning
// /proc/*/fd.
func socketOwners(inodes map[string]string) map[string]string {
	owners := map[string]string{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			inode := strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
			if _, ok := inodes[inode]; ok && owners[inode] == "" {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				owners[inode] = fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return owners
}
