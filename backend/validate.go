package backend

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Region is a Fly-style region code with its name.
type Region struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Regions are the region labels machines can carry (a copy: callers
// cannot change the table).
func Regions() []Region { return slices.Clone(regions) }

var regions = []Region{
	{"ams", "Amsterdam, Netherlands"}, {"arn", "Stockholm, Sweden"}, {"bom", "Mumbai, India"},
	{"cdg", "Paris, France"}, {"dfw", "Dallas, Texas (US)"}, {"ewr", "Secaucus, NJ (US)"},
	{"fra", "Frankfurt, Germany"}, {"gru", "Sao Paulo, Brazil"}, {"hkg", "Hong Kong"},
	{"iad", "Ashburn, Virginia (US)"}, {"jnb", "Johannesburg, South Africa"}, {"lax", "Los Angeles, California (US)"},
	{"lhr", "London, United Kingdom"}, {"mad", "Madrid, Spain"}, {"mia", "Miami, Florida (US)"},
	{"nrt", "Tokyo, Japan"}, {"ord", "Chicago, Illinois (US)"}, {"otp", "Bucharest, Romania"},
	{"scl", "Santiago, Chile"}, {"sea", "Seattle, Washington (US)"}, {"sin", "Singapore"},
	{"sjc", "San Jose, California (US)"}, {"syd", "Sydney, Australia"}, {"waw", "Warsaw, Poland"},
	{"yul", "Montreal, Canada"}, {"yyz", "Toronto, Canada"},
}

// VMSize is a Fly machine preset, mapped locally to postgres memory
// settings (and cgroup limits where writable).
type VMSize struct {
	Name     string `json:"name"`
	CPUs     int    `json:"cpus"`
	MemoryMB int    `json:"memory_mb"`
	Shared   bool   `json:"shared"`
}

// VMSizes are Fly's presets, smallest first (a copy, like Regions).
func VMSizes() []VMSize { return slices.Clone(vmSizes) }

var vmSizes = []VMSize{
	{"shared-cpu-1x", 1, 256, true}, {"shared-cpu-2x", 2, 512, true}, {"shared-cpu-4x", 4, 1024, true},
	{"shared-cpu-8x", 8, 2048, true}, {"dedicated-cpu-1x", 1, 2048, false}, {"dedicated-cpu-2x", 2, 4096, false},
	{"dedicated-cpu-4x", 4, 8192, false}, {"dedicated-cpu-8x", 8, 16384, false},
}

var labelRE = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

// ValidateName checks a DNS label as Fly does for app names.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("name is empty: use lowercase letters, digits and dashes, starting with a letter")
	case len(name) > 63:
		return fmt.Errorf("name %q is %d characters long: at most 63 allowed", name, len(name))
	case !labelRE.MatchString(name):
		return fmt.Errorf("name %q is not valid: use lowercase letters, digits and dashes, starting with a letter and not ending with a dash", name)
	}
	return nil
}

var machineIDRE = regexp.MustCompile(`^[0-9a-f]{8}$`)

// ValidateMachineID checks the form of a machine ID (8 hex digits, as the
// platform makes them), so it can be used in a DNS name safely.
func ValidateMachineID(id string) error {
	if !machineIDRE.MatchString(id) {
		return fmt.Errorf("%q is not a machine ID (8 hex digits, e.g. 6b97fa06)", id)
	}
	return nil
}

// LookupRegion returns a region by code.
func LookupRegion(code string) (Region, error) {
	for _, r := range regions {
		if r.Code == code {
			return r, nil
		}
	}
	codes := make([]string, len(regions))
	for i, r := range regions {
		codes[i] = r.Code
	}
	sort.Strings(codes)
	return Region{}, fmt.Errorf("unknown region %q: choose one of %s", code, strings.Join(codes, ", "))
}

// LookupVMSize returns a preset by name.
func LookupVMSize(name string) (VMSize, error) {
	for _, s := range vmSizes {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(vmSizes))
	for i, s := range vmSizes {
		names[i] = s.Name
	}
	return VMSize{}, fmt.Errorf("unknown VM size %q: choose one of %s", name, strings.Join(names, ", "))
}

// Limits on create requests.
const (
	MinVolumeGB, MaxVolumeGB       = 1, 500
	MinClusterSize, MaxClusterSize = 1, 9
)

// ValidateVolume checks a volume size in GB.
func ValidateVolume(gb int) error {
	if gb < MinVolumeGB || gb > MaxVolumeGB {
		return fmt.Errorf("volume size %d GB is out of range: choose %d to %d", gb, MinVolumeGB, MaxVolumeGB)
	}
	return nil
}

// ValidateClusterSize checks a machine count.
func ValidateClusterSize(n int) error {
	if n < MinClusterSize || n > MaxClusterSize {
		return fmt.Errorf("cluster size %d is out of range: choose %d to %d", n, MinClusterSize, MaxClusterSize)
	}
	return nil
}

// Validate checks every field; the CLI and the wizard use the same rules.
func (r CreateRequest) Validate() error {
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if r.Org != "" {
		if err := ValidateName(r.Org); err != nil {
			return fmt.Errorf("organization: %w", err)
		}
	}
	if _, err := LookupRegion(r.Region); err != nil {
		return err
	}
	if _, err := LookupVMSize(r.VMSize); err != nil {
		return err
	}
	if err := ValidateVolume(r.VolumeGB); err != nil {
		return err
	}
	return ValidateClusterSize(r.InitialClusterSize)
}

// ValidateIdentifier checks a user or database name: we quote every
// identifier anyway, but keep names to ones people can type.
func ValidateIdentifier(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("name %q must be 1 to 63 characters", name)
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && (r >= '0' && r <= '9' || r == '-'))
		if !ok {
			return fmt.Errorf("name %q is not valid: use lowercase letters, digits, '_' and '-', starting with a letter or '_'", name)
		}
	}
	return nil
}

// InputError is a request refused before anything ran: the caller's
// mistake (the agent's API answers 400).
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is an InputError.
func IsInputError(err error) bool {
	var ie InputError
	return errors.As(err, &ie)
}
