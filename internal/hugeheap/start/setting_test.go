package start

import "testing"

func TestDisabledByGODEBUG(t *testing.T) {
	for _, c := range []struct {
		godebug string
		want    bool
	}{
		{"", false},
		{"disablethp=1", true},
		{"gctrace=1, disablethp=1", true},
		{" disablethp=1 ", true},
		{"disablethp=1,disablethp=0", false},
		{"disablethp=0", false},
		{"xdisablethp=1", false},
		{"disablethp", false},
		{",,disablethp=1,", true},
	} {
		if got := DisabledByGODEBUG(c.godebug); got != c.want {
			t.Errorf("GODEBUG=%q: disabled %v, want %v", c.godebug, got, c.want)
		}
	}
}
