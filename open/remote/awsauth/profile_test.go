package awsauth

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testEnv writes the config and credentials files (skipped when "") into
// a temporary HOME's .aws and gives an Env with HOME and vars.
func testEnv(t *testing.T, config, credentials string, vars ...string) Env {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".aws")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"config": config, "credentials": credentials} {
		if text == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := map[string]string{"HOME": home}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseINI(t *testing.T) {
	text := "\ufeff# comment\r\n" +
		"; another\n" +
		"[ profile   dev ]  # trailing comment\n" +
		"Region = us-west-2 ; comment\n" +
		"output: json\n" +
		"quoted = \"a b\"\n" +
		"single = 'x'\n" +
		"lone = \"\n" +
		"hash = http://h/#frag\n" +
		"empty = #all comment\n" +
		"multi = first\n" +
		"  second line  \n" +
		"\tthird\n" +
		"s3 =\n" +
		"  endpoint_url = http://localhost:9000 # kept, as in the SDK\n" +
		"  Addressing_Style = path\n" +
		"  after = nested\n" +
		"key=v=w\n" +
		"[default]\n" +
		"a = 1\n" +
		"[profile dev]\n" +
		"again = yes\n"
	f, err := parseINI("cfg", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sections) != 2 {
		t.Fatalf("sections %v", f.sections)
	}
	dev := f.sections["profile dev"]
	if dev == nil || dev.line != 3 {
		t.Fatalf("profile dev: %+v", dev)
	}
	want := map[string]string{
		"region": "us-west-2", "output": "json", "quoted": "a b", "single": "x", "lone": `"`,
		"hash": "http://h/#frag", "empty": "", "multi": "first\nsecond line\nthird",
		"s3": "", "key": "v=w", "again": "yes",
	}
	got := map[string]string{}
	for k, v := range dev.values {
		got[k] = v.text()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("values\n got %q\nwant %q", got, want)
	}
	wantSub := map[string]string{"endpoint_url": "http://localhost:9000 # kept, as in the SDK", "addressing_style": "path", "after": "nested"}
	if sub := dev.values["s3"].sub; !reflect.DeepEqual(sub, wantSub) {
		t.Errorf("s3 = %q, want %q", sub, wantSub)
	}
	if v := f.sections["default"].values["a"]; v == nil || v.text() != "1" || v.line != 20 {
		t.Errorf("default a = %+v", v)
	}
}

// TestParseINILarge parses the largest files of the shapes that could
// make the work grow faster than the size.
func TestParseINILarge(t *testing.T) {
	for _, tc := range []struct{ name, head, line string }{
		{"continuation lines", "[default]\nk = v\n", " x\n"},
		{"nested properties", "[default]\ns3 =\n", " k = v\n"},
		{"sections", "", "[a]\n"},
		{"properties", "[default]\n", "k=v\n"},
	} {
		text := tc.head + strings.Repeat(tc.line, (maxConfigFileSize-len(tc.head))/len(tc.line))
		start := time.Now()
		if _, err := parseINI("big", []byte(text)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, time.Since(start))
	}
}

func TestParseINIErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"property before section", "a = 1\n[default]\n", "cfg:1: a property before any [section]"},
		{"no equals", "[default]\nregion\n", "cfg:2: expected [section] or key = value"},
		{"unclosed header", "[default]\n\n[profile x\n", "cfg:3: section header without its closing ]"},
		{"empty header", "[ ]\n", "cfg:1: section header without a name"},
		{"empty key", "[default]\n= v\n", "cfg:2: property without a name"},
		{"empty nested key", "[default]\ns3 =\n  = v\n", "cfg:3: nested property without a name"},
		{"orphan indent", "[default]\n  continued\n", "cfg:2: an indented line, but no value above it"},
		{"indent under empty", "[default]\ns3 =\n  word\n", "cfg:3: an indented line, but no value above it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseINI("cfg", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestErrorsDoNotQuoteSecrets(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
	for _, text := range []string{
		"[default]\naws_secret_access_key " + secret + "\n",
		"[default]\n  " + secret + "\n",
		secret + " = x\n",
	} {
		_, err := parseINI("cfg", []byte(text))
		if err == nil || strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("%q: err = %v", text, err)
		}
	}
	env := testEnv(t, "[default]\nduration_seconds = "+secret+"\nuse_fips_endpoint = "+secret+"\n", "")
	if _, err := LoadProfile(env, "default"); err == nil || strings.Contains(err.Error(), secret[:8]) {
		t.Errorf("err = %v", err)
	}
}

func TestLoadProfile(t *testing.T) {
	const config = `
[default]
region = eu-west-1

[profile default]
region = eu-west-2

[profile dev]
region = us-east-1
aws_access_key_id = CFGKEY
aws_secret_access_key = CFGSECRET
aws_session_token = CFGTOKEN
output = json

[profile cfgkeys]
AWS_Access_Key_ID = K2
aws_secret_access_key = S2
aws_account_id = 123456789012

[profile role]
role_arn = arn:aws:iam::123456789012:role/r
source_profile = dev
external_id = ext
role_session_name = sess
duration_seconds = 1800
mfa_serial = arn:aws:iam::123456789012:mfa/me
region = ap-south-1

[profile web]
role_arn = arn:aws:iam::123456789012:role/w
web_identity_token_file = /var/run/token

[profile proc]
credential_process = /usr/bin/creds --json

[profile sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Reader

# legacy SSO profiles: in profile_sdk_test.go.
[sso-session corp]
sso_region = eu-central-1 # merged into the profile
sso_start_url = https://corp.awsapps.com/start

[profile minio]
services = local
endpoint_url = http://profile-endpoint
ignore_configured_endpoint_urls = True
ca_bundle = /etc/ca.pem
use_fips_endpoint = false
use_dualstack_endpoint = true
ec2_metadata_service_endpoint = http://[fd00:ec2::254]
ec2_metadata_service_endpoint_mode = IPv6
ec2_metadata_v1_disabled = true

[services local]
dynamodb =
  endpoint_url = http://localhost:8000
S3 =
	Endpoint_URL = http://localhost:9000

[stray]
region = nowhere
`
	const credentials = `
[dev]
aws_access_key_id = CREDKEY
aws_secret_access_key = CREDSECRET
region = us-east-2

[profile ignored]
aws_access_key_id = X
aws_secret_access_key = Y

[credonly]
aws_access_key_id = K3
aws_secret_access_key = S3
`
	env := testEnv(t, config, credentials)
	devKeys := Profile{Name: "dev", Region: "us-east-2", AccessKeyID: "CREDKEY", SecretAccessKey: "CREDSECRET"}
	for _, tc := range []struct {
		name string
		want Profile
	}{
		{"default", Profile{Name: "default", Region: "eu-west-2"}},
		{"dev", devKeys},
		{"cfgkeys", Profile{Name: "cfgkeys", AccessKeyID: "K2", SecretAccessKey: "S2", AccountID: "123456789012"}},
		{"credonly", Profile{Name: "credonly", AccessKeyID: "K3", SecretAccessKey: "S3"}},
		{"role", Profile{
			Name: "role", Region: "ap-south-1", RoleARN: "arn:aws:iam::123456789012:role/r", SourceProfile: "dev",
			ExternalID: "ext", RoleSessionName: "sess", DurationSeconds: 1800, MFASerial: "arn:aws:iam::123456789012:mfa/me",
			Source: &devKeys,
		}},
		{"web", Profile{Name: "web", RoleARN: "arn:aws:iam::123456789012:role/w", WebIdentityTokenFile: "/var/run/token"}},
		{"proc", Profile{Name: "proc", CredentialProcess: "/usr/bin/creds --json"}},
		{"sso", Profile{
			Name: "sso", SSOSession: "corp", SSOAccountID: "111122223333", SSORoleName: "Reader",
			SSOStartURL: "https://corp.awsapps.com/start", SSORegion: "eu-central-1",
		}},
		{"minio", Profile{
			Name: "minio", Services: "local", EndpointURL: "http://localhost:9000", serviceEndpoint: true,
			IgnoreConfiguredEndpointURLs: true, CABundle: "/etc/ca.pem", UseDualStackEndpoint: true,
			EC2MetadataServiceEndpoint: "http://[fd00:ec2::254]", EC2MetadataServiceEndpointMode: "IPv6",
			EC2MetadataV1Disabled: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadProfile(env, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, name := range []string{"stray", "ignored", "nosuch", "profile dev"} {
		_, err := LoadProfile(env, name)
		var nf *ProfileNotFoundError
		if !errors.As(err, &nf) || nf.Profile != name || !strings.Contains(err.Error(), filepath.Join(".aws", "credentials")) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLoadProfileFiles(t *testing.T) {
	// No files, no HOME: the default profile is empty, a named one missing.
	none := func(string) string { return "" }
	if p, err := LoadProfile(none, "default"); err != nil || !reflect.DeepEqual(p, Profile{Name: "default"}) {
		t.Errorf("no files: %+v, %v", p, err)
	}
	if _, err := LoadProfile(none, "dev"); err == nil {
		t.Error("no files: profile dev found")
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "myconfig")
	cred := filepath.Join(dir, "mycreds")
	if err := os.WriteFile(cfg, []byte("[profile x]\nregion = r1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cred, []byte("[x]\naws_access_key_id = a\naws_secret_access_key = b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) Env { return func(k string) string { return m[k] } }
	p, err := LoadProfile(env(map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cred, "HOME": "/nonexistent"}), "x")
	if err != nil || p.Region != "r1" || p.AccessKeyID != "a" {
		t.Errorf("files from the environment: %+v, %v", p, err)
	}
	p, err = LoadProfile(env(map[string]string{"AWS_CONFIG_FILE": "~/myconfig", "HOME": dir}), "x")
	if err != nil || p.Region != "r1" {
		t.Errorf("~/myconfig: %+v, %v", p, err)
	}

	// Unreadable (a directory), too large, malformed: errors naming the file.
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte("[default]\n"+strings.Repeat("# padding\n", maxConfigFileSize/10)), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("[default]\nregion us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{dir, dir},
		{big, big + ": larger than 1024 KiB"},
		{bad, bad + ":2:"},
	} {
		for _, v := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
			_, err := LoadProfile(env(map[string]string{v: tc.file}), "default")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%s: err = %v, want %q", v, tc.file, err, tc.want)
			}
		}
	}
	// HOME being a file is the same as no files.
	if _, err := LoadProfile(env(map[string]string{"HOME": bad}), "default"); err != nil {
		t.Errorf("HOME a file: %v", err)
	}
}

func TestLoadProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, config, credentials, profile, want string
	}{
		{"partial keys in config", "[profile p]\naws_access_key_id = a\n", "", "p", "config:2: profile \"p\" has only one of"},
		{"partial keys in credentials", "", "[p]\naws_secret_access_key = a\n", "p", "credentials:2: profile \"p\" has only one of"},
		{"partial keys with complete credentials", "[profile p]\naws_access_key_id = a\n", "[p]\naws_access_key_id = a\naws_secret_access_key = b\n", "p", ""},
		{"source without role", "[profile p]\nsource_profile = q\n[profile q]\naws_access_key_id = a\naws_secret_access_key = b\n", "", "p", `"p": source_profile needs a role_arn`},
		{"credential_source without role", "[profile p]\ncredential_source = Environment\n", "", "p", "credential_source needs a role_arn"},
		{"two kinds", "[profile p]\nrole_arn = r\ncredential_source = Environment\ncredential_process = x\n", "", "p", "credential_source and credential_process: a profile may have only one"},
		{"missing source", "[profile p]\nrole_arn = r\nsource_profile = q\n", "", "p", `its source_profile "q" is in neither file`},
		{"source without credentials", "[profile p]\nrole_arn = r\nsource_profile = q\n[profile q]\nregion = x\n", "", "p", `its source_profile "q" has no credentials`},
		{"cycle", "[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\nsource_profile = a\n", "", "a", "loop back"},
		{"missing sso-session", "[profile p]\nsso_session = corp\n", "", "p", "no [sso-session corp] section"},
		{"sso region mismatch", "[profile p]\nsso_session = corp\nsso_region = us-east-1\n[sso-session corp]\nsso_region = eu-west-1\n", "", "p", "its sso_region differs"},
		{"bad bool", "[profile p]\nignore_configured_endpoint_urls = yes\n", "", "p", "config:2: ignore_configured_endpoint_urls: expected true or false"},
		{"bad duration", "[profile p]\nrole_arn = r\nduration_seconds = 1h\n", "", "p", "config:3: duration_seconds: expected a whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProfile(testEnv(t, tc.config, tc.credentials), tc.profile)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSourceProfileChains(t *testing.T) {
	// Self-reference: the profile's own keys assume its role.
	env := testEnv(t, "[profile self]\nrole_arn = r\nsource_profile = self\naws_access_key_id = a\naws_secret_access_key = b\n", "")
	p, err := LoadProfile(env, "self")
	if err != nil {
		t.Fatal(err)
	}
	if p.AccessKeyID != "" || p.Source == nil || p.Source.AccessKeyID != "a" || p.Source.RoleARN != "" || p.Source.Source != nil {
		t.Errorf("self: %+v, source %+v", p, p.Source)
	}

	// a -> b -> c, c with keys and a role of its own, which ends the chain.
	env = testEnv(t, `
[profile a]
role_arn = ra
source_profile = b
[profile b]
role_arn = rb
source_profile = c
[profile c]
role_arn = rc
source_profile = a
aws_access_key_id = k
aws_secret_access_key = s
`, "")
	p, err = LoadProfile(env, "a")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for q := &p; q != nil; q = q.Source {
		names = append(names, q.Name+":"+q.RoleARN)
	}
	if got := strings.Join(names, " "); got != "a:ra b:rb c:rc" {
		t.Errorf("chain %s", got)
	}

	// A loop that comes back to a profile with credentials ends there.
	env = testEnv(t, `
[profile a]
role_arn = ra
source_profile = b
sso_start_url = https://a.awsapps.com/start
sso_region = us-east-1
sso_account_id = 1
sso_role_name = R
[profile b]
role_arn = rb
source_profile = a
`, "")
	p, err = LoadProfile(env, "a")
	if err != nil {
		t.Fatal(err)
	}
	if p.SSOStartURL != "" || p.Source == nil || p.Source.Source == nil || p.Source.Source.Name != "a" ||
		p.Source.Source.SSOStartURL == "" || p.Source.Source.RoleARN != "" || p.Source.Source.Source != nil {
		t.Errorf("loop: %+v", p)
	}

	// Too long a chain.
	var b strings.Builder
	for i := range maxSourceProfiles + 1 {
		b.WriteString("[profile p" + strconv.Itoa(i) + "]\nrole_arn = r\nsource_profile = p" + strconv.Itoa(i+1) + "\n")
	}
	b.WriteString("[profile p" + strconv.Itoa(maxSourceProfiles+1) + "]\naws_access_key_id = a\naws_secret_access_key = b\n")
	if _, err := LoadProfile(testEnv(t, b.String(), ""), "p0"); err == nil || !strings.Contains(err.Error(), "linked by source_profile") {
		t.Errorf("long chain: %v", err)
	}
	if _, err := LoadProfile(testEnv(t, b.String(), ""), "p3"); err != nil {
		t.Errorf("a chain of %d profiles: %v", maxSourceProfiles-1, err)
	}
}

func TestProfileName(t *testing.T) {
	for _, tc := range []struct {
		vars []string
		want string
	}{
		{nil, "default"},
		{[]string{"AWS_PROFILE", "dev"}, "dev"},
		{[]string{"AWS_DEFAULT_PROFILE", "old"}, "old"},
		{[]string{"AWS_PROFILE", "dev", "AWS_DEFAULT_PROFILE", "old"}, "dev"},
	} {
		m := map[string]string{}
		for i := 0; i < len(tc.vars); i += 2 {
			m[tc.vars[i]] = tc.vars[i+1]
		}
		if got := ProfileName(func(k string) string { return m[k] }); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.vars, got, tc.want)
		}
	}
}

func TestLoadSettings(t *testing.T) {
	const config = `
[default]
region = eu-west-1
endpoint_url = http://default-endpoint
ca_bundle = /profile/ca.pem

[profile svc]
services = s
endpoint_url = http://profile-endpoint
[services s]
s3 =
  endpoint_url = http://service-endpoint

[profile ignoring]
endpoint_url = http://profile-endpoint
ignore_configured_endpoint_urls = true
`
	for _, tc := range []struct {
		name string
		vars []string
		want Settings
	}{
		{"profile", nil, Settings{Region: "eu-west-1", EndpointURL: "http://default-endpoint", CABundle: "/profile/ca.pem"}},
		{"default region", []string{"AWS_DEFAULT_REGION", "r2"}, Settings{Region: "r2", EndpointURL: "http://default-endpoint", CABundle: "/profile/ca.pem"}},
		{"region", []string{"AWS_DEFAULT_REGION", "r2", "AWS_REGION", "r1", "AWS_CA_BUNDLE", "/env/ca.pem"},
			Settings{Region: "r1", EndpointURL: "http://default-endpoint", CABundle: "/env/ca.pem"}},
		{"endpoint", []string{"AWS_ENDPOINT_URL", "http://env"}, Settings{Region: "eu-west-1", EndpointURL: "http://env", CABundle: "/profile/ca.pem"}},
		{"s3 endpoint", []string{"AWS_ENDPOINT_URL", "http://env", "AWS_ENDPOINT_URL_S3", "http://env-s3"},
			Settings{Region: "eu-west-1", EndpointURL: "http://env-s3", CABundle: "/profile/ca.pem"}},
		{"ignore", []string{"AWS_ENDPOINT_URL_S3", "http://env-s3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"},
			Settings{Region: "eu-west-1", CABundle: "/profile/ca.pem"}},
		{"services", []string{"AWS_PROFILE", "svc", "AWS_ENDPOINT_URL", "http://env"}, Settings{EndpointURL: "http://service-endpoint"}},
		{"services under env s3", []string{"AWS_PROFILE", "svc", "AWS_ENDPOINT_URL_S3", "http://env-s3"}, Settings{EndpointURL: "http://env-s3"}},
		{"profile ignores", []string{"AWS_PROFILE", "ignoring", "AWS_ENDPOINT_URL", "http://env"}, Settings{}},
		{"env overrides profile ignore", []string{"AWS_PROFILE", "ignoring", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"},
			Settings{EndpointURL: "http://profile-endpoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadSettings(testEnv(t, config, "", tc.vars...))
			if err != nil {
				t.Fatal(err)
			}
			got.Profile = Profile{}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, err := LoadSettings(testEnv(t, config, "", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "1")); err == nil {
		t.Error("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=1 accepted")
	}
	if _, err := LoadSettings(testEnv(t, config, "", "AWS_PROFILE", "nosuch")); err == nil {
		t.Error("AWS_PROFILE=nosuch accepted")
	}
}
