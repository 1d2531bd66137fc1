package wizard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// field is one line of the form.
type field int

const (
	fName field = iota
	fOrg
	fRegion
	fSize
	fVolume
	fCount
	nFields
)

var labels = [nFields]string{"App name", "Organization", "Region", "VM size", "Volume (GB)", "Cluster size"}

// Defaults, as `postgres create` has them.
const (
	defaultOrg    = "personal"
	defaultRegion = "iad"
	defaultVolume = "10"
	defaultCount  = "2"
)

// form is the create form: text fields, a searchable region list and
// the VM size presets. It validates with the backend's own rules as the
// user types.
type form struct {
	inputs    [nFields]textinput.Model
	focus     field
	regionAt  int // cursor in the region matches
	sizeAt    int // cursor in backend.VMSizes()
	touched   [nFields]bool
	submitted bool
}

func newForm(t *views.Theme) *form {
	f := &form{}
	placeholders := [nFields]string{"e.g. my-postgres", defaultOrg, "type to search", "", defaultVolume, defaultCount}
	for i := range f.inputs {
		f.inputs[i] = t.NewInput("", placeholders[i])
		f.inputs[i].CharLimit = 63
	}
	f.inputs[fOrg].SetValue(defaultOrg)
	f.inputs[fVolume].SetValue(defaultVolume)
	f.inputs[fCount].SetValue(defaultCount)
	f.inputs[fName].Focus()
	f.resetRegion()
	return f
}

// resetRegion puts the region cursor on the first match, or on the
// default region while nothing is typed.
func (f *form) resetRegion() {
	f.regionAt = 0
	if f.value(fRegion) != "" {
		return
	}
	for i, r := range backend.Regions() {
		if r.Code == defaultRegion {
			f.regionAt = i
		}
	}
}

func (f *form) value(fl field) string { return strings.TrimSpace(f.inputs[fl].Value()) }

// move focuses the field d steps away.
func (f *form) move(d int) {
	f.inputs[f.focus].Blur()
	f.focus = field((int(f.focus) + d + int(nFields)) % int(nFields))
	if f.focus != fSize {
		f.inputs[f.focus].Focus()
	}
}

// regionMatches are the regions whose code starts with, or whose name
// contains, what was typed; an exact code comes first.
func (f *form) regionMatches() []backend.Region {
	q := strings.ToLower(f.value(fRegion))
	if q == "" {
		return backend.Regions()
	}
	var exact, rest []backend.Region
	for _, r := range backend.Regions() {
		switch {
		case r.Code == q:
			exact = append(exact, r)
		case strings.HasPrefix(r.Code, q) || strings.Contains(strings.ToLower(r.Name), q):
			rest = append(rest, r)
		}
	}
	return append(exact, rest...)
}

// region is the region chosen, or the reason there is none.
func (f *form) region() (backend.Region, error) {
	ms := f.regionMatches()
	if len(ms) == 0 {
		return backend.LookupRegion(f.value(fRegion))
	}
	return ms[min(f.regionAt, len(ms)-1)], nil
}

// number parses a whole-number field.
func number(s, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number", what, s)
	}
	return n, nil
}

// request builds the create request and each field's error.
func (f *form) request() (backend.CreateRequest, [nFields]error) {
	var errs [nFields]error
	req := backend.CreateRequest{Name: f.value(fName), Org: f.value(fOrg), VMSize: backend.VMSizes()[f.sizeAt].Name}
	errs[fName] = backend.ValidateName(req.Name)
	if req.Org == "" {
		req.Org = defaultOrg
	} else if err := backend.ValidateName(req.Org); err != nil {
		errs[fOrg] = fmt.Errorf("organization: %w", err)
	}
	r, err := f.region()
	req.Region, errs[fRegion] = r.Code, err
	if req.VolumeGB, err = number(f.value(fVolume), "volume size"); err == nil {
		err = backend.ValidateVolume(req.VolumeGB)
	}
	errs[fVolume] = err
	if req.InitialClusterSize, err = number(f.value(fCount), "cluster size"); err == nil {
		err = backend.ValidateClusterSize(req.InitialClusterSize)
	}
	errs[fCount] = err
	return req, errs
}

// shown says whether a field's error is worth showing yet: once the
// user typed in it, or tried to create.
func (f *form) shown(fl field) bool { return f.submitted || f.touched[fl] }

// sizeLine describes a VM size preset as the seed's prompt does, with
// its CPUs.
func sizeLine(s backend.VMSize) string {
	kind := "dedicated"
	if s.Shared {
		kind = "shared"
	}
	return fmt.Sprintf("%-17s %d CPU %-9s %6d MB", s.Name, s.CPUs, "("+kind+")", s.MemoryMB)
}

// choose moves the cursor of the region or size list, or, on a text
// field, moves to the field above or below.
func (f *form) choose(down bool) {
	d := -1
	if down {
		d = 1
	}
	switch f.focus {
	case fRegion:
		f.regionAt = max(min(f.regionAt+d, len(f.regionMatches())-1), 0)
	case fSize:
		f.sizeAt = max(min(f.sizeAt+d, len(backend.VMSizes())-1), 0)
	default:
		f.move(d)
	}
}
