package start

import (
	"os"
	"testing"
)

func TestSetting(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ content, want string }{
		{"always [madvise] never\n", "madvise"},
		{"[always] madvise never\n", "always"},
		{"always madvise [never]", "never"},
		{"2\n", "2"},
		{"  1 \n", "1"},
		{"[unclosed\n", "[unclosed"},
		{"", ""},
	} {
		p := dir + "/setting"
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := Setting(p); got != c.want {
			t.Errorf("%q: got %q, want %q", c.content, got, c.want)
		}
	}
	if got := Setting(dir + "/absent"); got != "" {
		t.Errorf("absent file: got %q, want empty", got)
	}
}
