package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/pgtui/pgtui/tunnel"
	"github.com/spf13/cobra"
)

// newWireguard is `pgtui wireguard create|list|remove`.
func newWireguard(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "wireguard",
		Aliases: []string{"wg"},
		Short:   "Manage WireGuard peers of the private network",
	}
	cmd.AddCommand(newWireguardCreate(d), newWireguardList(d), newWireguardRemove(d))
	return cmd
}

func newWireguardCreate(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:   "create [ORG] [REGION] [NAME] [FILE]",
		Short: "Add a WireGuard peer and write its wg-quick config",
		Long: `Add a WireGuard peer to ORG's private network (default personal) and write its
config in wg-quick format to FILE (default NAME.conf; - for standard output),
mode 0600. Load it with ` + "`wg-quick up ./FILE`" + ` or any WireGuard client; the private
key is in this file only.`,
		Args: cobra.MaximumNArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			args = append(args, make([]string, 4-len(args))...)
			return runWireguardCreate(cmd.Context(), d, args[0], args[1], args[2], args[3])
		},
	}
}

func runWireguardCreate(ctx context.Context, d *deps, org, region, name, file string) error {
	org, region = orDefaultStr(org, "personal"), orDefaultStr(region, "iad")
	if name == "" {
		name = interactivePeerName()
	}
	if err := backend.ValidateName(org); err != nil {
		return fmt.Errorf("org: %w", err)
	}
	if _, err := backend.LookupRegion(region); err != nil {
		return err
	}
	if err := tunnel.ValidatePeerName(name); err != nil {
		return err
	}
	file = orDefaultStr(file, name+".conf")
	if file != "-" {
		if _, err := os.Stat(file); err == nil {
			return fmt.Errorf("%s exists: give another FILE, or remove it first", file)
		}
	}
	tb, err := d.tunnels()
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(d.Err, "Creating WireGuard peer %q in region %q for organization %s\n", name, region, org)
	np, err := tb.CreatePeer(ctx, api.PeerRequest{Name: name, Org: org, Region: region})
	if err != nil {
		return fmt.Errorf("create wireguard peer %s: %w", name, err)
	}
	if file == "-" {
		d.printf("%s", np.Config)
		return nil
	}
	if err := writeNewFile(file, []byte(np.Config)); err != nil {
		if rerr := tb.RemovePeer(ctx, name); rerr != nil {
			err = fmt.Errorf("%w (and removing the peer again failed: %v)", err, rerr)
		}
		return err
	}
	_, _ = fmt.Fprintln(d.Err, "!!!! WARNING: the file holds the peer's private key, which cannot be recovered: !!!!")
	_, _ = fmt.Fprintln(d.Err, "!!!! if you lose it, remove the peer and create it again.                      !!!!")
	d.printf("Wrote WireGuard configuration to %s; load it in your WireGuard client (address %s)\n", file, np.Peer.Address)
	return nil
}

// writeNewFile creates file with mode 0600, never over an existing one.
func writeNewFile(file string, data []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(file)
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(file)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

func orDefaultStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// interactivePeerName is interactive-<host>-<random>, as flyctl names them.
func interactivePeerName() string {
	host, _ := os.Hostname()
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 30 {
		h = strings.Trim(h[:30], "-")
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	if h == "" {
		return "interactive-" + hex.EncodeToString(rnd[:])
	}
	return "interactive-" + h + "-" + hex.EncodeToString(rnd[:])
}

func newWireguardList(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List WireGuard peers with their last handshake and traffic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWireguardList(cmd.Context(), d, asJSON)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func runWireguardList(ctx context.Context, d *deps, asJSON bool) error {
	tb, err := d.tunnels()
	if err != nil {
		return err
	}
	peers, err := tb.ListPeers(ctx)
	if err != nil {
		return fmt.Errorf("list wireguard peers: %w", err)
	}
	if asJSON {
		return render.JSON(d.Out, peers)
	}
	rows := make([][]string, len(peers))
	for i, p := range peers {
		hs := "never"
		if !p.LastHandshake.IsZero() {
			hs = humanize.Time(p.LastHandshake)
		}
		rows[i] = []string{p.Name, p.Org, p.Region, p.Address.String(), hs,
			humanize.IBytes(uint64(p.RxBytes)), humanize.IBytes(uint64(p.TxBytes))}
	}
	return render.Table(d.Out, "", rows, "Name", "Org", "Region", "Peer IP", "Last handshake", "Received", "Sent")
}

func newWireguardRemove(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a WireGuard peer: it can no longer connect",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWireguardRemove(cmd.Context(), d, args[0])
		},
	}
}

func runWireguardRemove(ctx context.Context, d *deps, name string) error {
	if err := tunnel.ValidatePeerName(name); err != nil {
		return err
	}
	tb, err := d.tunnels()
	if err != nil {
		return err
	}
	if err := tb.RemovePeer(ctx, name); err != nil {
		if errors.Is(err, api.ErrNotFound) || errors.Is(err, tunnel.ErrNoPeer) {
			return fmt.Errorf("unknown wireguard peer %s: see `pgtui wireguard list`", name)
		}
		return fmt.Errorf("remove wireguard peer %s: %w", name, err)
	}
	d.printf("Removed WireGuard peer %s\n", name)
	return nil
}
