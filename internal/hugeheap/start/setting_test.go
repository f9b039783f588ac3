package start

import (
	"strconv"
	"strings"
	"testing"
)

func TestDisabledByGODEBUG(t *testing.T) {
	for _, c := range []struct {
		godebug string
		want    bool
	}{
		{"", false},
		{"disablethp=1", true},
		{"gctrace=1,disablethp=1", true},
		{"gctrace=1, disablethp=1", false},
		{" disablethp=1", false}, // the runtime trims no spaces
		{"disablethp=1 ", false}, // not a number: no setting
		{"disablethp=1,disablethp=0", false},
		{"disablethp=0", false},
		{"disablethp=2", true},
		{"disablethp=01", true},
		{"disablethp=+1", true},
		{"disablethp=-1", true},
		{"disablethp=-0", false},
		{"disablethp=1,disablethp=x", true}, // not a number: the 1 stays
		{"disablethp=1,disablethp=", true},
		{"disablethp=1,disablethp=2147483648", true}, // out of int32's range
		{"disablethp=-2147483648", true},
		{"disablethp=99999999999999999999", false},
		{"xdisablethp=1", false},
		{"disablethp", false},
		{",,disablethp=1,", true},
	} {
		if got := DisabledByGODEBUG(c.godebug); got != c.want {
			t.Errorf("GODEBUG=%q: disabled %v, want %v", c.godebug, got, c.want)
		}
	}
}

// FuzzDisabledByGODEBUG holds DisabledByGODEBUG to a reading of GODEBUG
// written with package strconv, as the runtime's parsegodebug reads it.
func FuzzDisabledByGODEBUG(f *testing.F) {
	for _, s := range []string{"", "disablethp=1", "gctrace=1,disablethp=0", " disablethp=1", "disablethp=+07,disablethp=x", "disablethp=2147483648", "disablethp=-2147483648,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, godebug string) {
		want := false
		for _, field := range strings.Split(godebug, ",") {
			if k, v, ok := strings.Cut(field, "="); ok && k == "disablethp" {
				if n, err := strconv.ParseInt(v, 10, 32); err == nil {
					want = n != 0
				}
			}
		}
		if got := DisabledByGODEBUG(godebug); got != want {
			t.Errorf("GODEBUG=%q: disabled %v, want %v", godebug, got, want)
		}
	})
}
