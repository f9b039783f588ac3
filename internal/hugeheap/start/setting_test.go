package start

import "testing"

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
