package awsauth

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzConfigFile parses arbitrary files as both the config and the
// credentials file and loads every profile they name: no panic, errors
// that name the file and line, properties with lower-case trimmed names.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		sdkConfig,
		sdkCredentials,
		"[default]\nregion = us-east-1\n",
		"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\nsource_profile = a\naws_access_key_id = k\naws_secret_access_key = s\n",
		"[profile p]\nservices = s\n[services s]\ns3 =\n  endpoint_url = http://x\n",
		"[profile p]\nsso_session = c\n[sso-session c]\nsso_region = r\n",
		"[default]\nmulti = a\n  b\n\tc\n",
		"\ufeff[default]\r\nkey: 'v' ; c\r\n",
	} {
		f.Add([]byte(seed))
	}
	lineError := regexp.MustCompile(`^AWS config file fuzz:[0-9]+: `)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseINI("fuzz", data)
		if err != nil {
			if !lineError.MatchString(err.Error()) {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for name, sec := range file.sections {
			if name == "" || name != strings.TrimSpace(name) {
				t.Fatalf("section name %q", name)
			}
			for k := range sec.values {
				if k == "" || k != strings.ToLower(strings.TrimSpace(k)) {
					t.Fatalf("section %q: key %q", name, k)
				}
			}
		}
		files := profileFiles{config: file, credentials: file}
		for name := range file.sections {
			p, err := files.load(strings.TrimPrefix(name, "profile "), map[string]bool{}, 0)
			if err != nil {
				continue
			}
			depth := 0
			for q := p.Source; q != nil; q = q.Source {
				if depth++; depth >= maxSourceProfiles {
					t.Fatalf("profile %q: a chain of %d source profiles", name, depth)
				}
			}
		}
	})
}
