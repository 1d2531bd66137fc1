package status

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the status pane's keys. The dangerous ones (upper case) all
// go through a confirm dialog.
type KeyMap struct {
	Open      key.Binding
	PSQL      key.Binding
	PSQLHere  key.Binding
	Users     key.Binding
	DBs       key.Binding
	Timeline  key.Binding
	Checks    key.Binding
	Logs      key.Binding
	Metrics   key.Binding
	Config    key.Binding
	ScaleUp   key.Binding
	ScaleDown key.Binding
	Start     key.Binding
	Stop      key.Binding
	Kill      key.Binding
	Restart   key.Binding
	Destroy   key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	b := func(k, help string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, help)) }
	return KeyMap{
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "machine detail")),
		PSQL:      b("p", "psql"),
		PSQLHere:  b("P", "psql on machine"),
		Users:     b("u", "users"),
		DBs:       b("d", "databases"),
		Timeline:  b("t", "failover timeline"),
		Checks:    b("c", "health checks"),
		Logs:      b("l", "logs"),
		Metrics:   b("m", "metrics"),
		Config:    b("o", "settings"),
		ScaleUp:   b("+", "add a machine"),
		ScaleDown: b("-", "remove a machine"),
		Start:     b("s", "start machine"),
		Stop:      b("S", "stop machine"),
		Kill:      b("K", "kill machine"),
		Restart:   b("R", "restart cluster"),
		Destroy:   b("D", "destroy cluster"),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.PSQL, k.Timeline, k.ScaleUp, k.ScaleDown, k.Restart}
}

// FullHelp is the help overlay (after the list keys): going elsewhere, then the
// dangerous actions.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Open, k.PSQL, k.PSQLHere, k.Users, k.DBs, k.Timeline, k.Checks, k.Logs, k.Metrics, k.Config},
		{k.ScaleUp, k.ScaleDown, k.Start, k.Stop, k.Kill, k.Restart, k.Destroy},
	}
}

// enable switches the machine and scale keys on or off for what is
// selected, so help never offers what cannot be done.
// On a cluster of external hosts (owned) the lifecycle keys stay off:
// the engine that runs its nodes owns them.
func (k *KeyMap) enable(m *machineSel, machines int, owned bool) {
	running := m != nil && m.running
	k.Open.SetEnabled(m != nil)
	k.PSQLHere.SetEnabled(running)
	k.Start.SetEnabled(!owned && m != nil && !running)
	k.Stop.SetEnabled(!owned && running)
	k.Kill.SetEnabled(!owned && running)
	k.ScaleUp.SetEnabled(!owned && machines > 0 && machines < maxMachines)
	k.ScaleDown.SetEnabled(!owned && machines > minMachines)
	k.Restart.SetEnabled(!owned)
	k.Destroy.SetEnabled(!owned)
}
