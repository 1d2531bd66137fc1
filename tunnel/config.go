package tunnel

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Keepalive is the PersistentKeepalive of peers' configs, in seconds.
const Keepalive = 15

// Config is one peer's side of a tunnel: wg-quick's [Interface] and its
// one [Peer], the gateway. wg-quick writes keys in base64; WireGuard's
// UAPI (IpcSet) takes them in hex.
type Config struct {
	PrivateKey wgtypes.Key
	Address    netip.Prefix // the peer's private address, /128
	DNS        netip.Addr

	PeerPublicKey wgtypes.Key
	AllowedIPs    []netip.Prefix
	Endpoint      netip.AddrPort
	Keepalive     int // seconds, 0: off
}

// String is the config in wg-quick's format.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nAddress = %s\n", c.PrivateKey, c.Address)
	if c.DNS.IsValid() {
		fmt.Fprintf(&b, "DNS = %s\n", c.DNS)
	}
	allowed := make([]string, len(c.AllowedIPs))
	for i, p := range c.AllowedIPs {
		allowed[i] = p.String()
	}
	fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\nEndpoint = %s\n", c.PeerPublicKey, strings.Join(allowed, ", "), c.Endpoint)
	if c.Keepalive > 0 {
		fmt.Fprintf(&b, "PersistentKeepalive = %d\n", c.Keepalive)
	}
	return b.String()
}

// UAPI is the config in WireGuard's configuration protocol (IpcSet),
// replacing any peers the device had.
func (c Config) UAPI() string {
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%s\nreplace_peers=true\n", HexKey(c.PrivateKey))
	fmt.Fprintf(&b, "public_key=%s\nendpoint=%s\n", HexKey(c.PeerPublicKey), c.Endpoint)
	if c.Keepalive > 0 {
		fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", c.Keepalive)
	}
	b.WriteString("replace_allowed_ips=true\n")
	for _, p := range c.AllowedIPs {
		fmt.Fprintf(&b, "allowed_ip=%s\n", p)
	}
	return b.String()
}

// HexKey is a key as WireGuard's UAPI writes it.
func HexKey(k wgtypes.Key) string { return hex.EncodeToString(k[:]) }

// ParseConfig reads a wg-quick config with one peer.
func ParseConfig(text string) (Config, error) {
	var c Config
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.ToLower(line)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Config{}, fmt.Errorf("wireguard config line %d: want KEY = VALUE", n)
		}
		if err := c.set(section, strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)); err != nil {
			return Config{}, fmt.Errorf("wireguard config line %d: %w", n, err)
		}
	}
	switch {
	case c.PrivateKey == wgtypes.Key{}:
		return Config{}, errors.New("wireguard config: [Interface] PrivateKey missing")
	case !c.Address.IsValid():
		return Config{}, errors.New("wireguard config: [Interface] Address missing")
	case c.PeerPublicKey == wgtypes.Key{}:
		return Config{}, errors.New("wireguard config: [Peer] PublicKey missing")
	case !c.Endpoint.IsValid():
		return Config{}, errors.New("wireguard config: [Peer] Endpoint missing")
	}
	return c, nil
}

func (c *Config) set(section, k, v string) error {
	var err error
	switch section + k {
	case "[interface]privatekey":
		c.PrivateKey, err = wgtypes.ParseKey(v)
	case "[interface]address":
		first, _, _ := strings.Cut(v, ",")
		c.Address, err = netip.ParsePrefix(strings.TrimSpace(first))
	case "[interface]dns":
		first, _, _ := strings.Cut(v, ",")
		c.DNS, err = netip.ParseAddr(strings.TrimSpace(first))
	case "[peer]publickey":
		c.PeerPublicKey, err = wgtypes.ParseKey(v)
	case "[peer]allowedips":
		for _, s := range strings.Split(v, ",") {
			p, perr := netip.ParsePrefix(strings.TrimSpace(s))
			if perr != nil {
				return fmt.Errorf("AllowedIPs: %w", perr)
			}
			c.AllowedIPs = append(c.AllowedIPs, p)
		}
	case "[peer]endpoint":
		c.Endpoint, err = netip.ParseAddrPort(v)
	case "[peer]persistentkeepalive":
		c.Keepalive, err = strconv.Atoi(v)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	return nil
}
