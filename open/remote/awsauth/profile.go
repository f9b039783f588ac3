package awsauth

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// maxSourceProfiles bounds a chain of source_profile links.
const maxSourceProfiles = 32

// Profile is one profile of the shared config and credentials files, as
// the AWS SDK for Go v2 reads it (config.LoadSharedConfigProfile). Where a
// profile is in both files, the credentials file's values win.
type Profile struct {
	// Name is the profile's name: "default", or NAME of [profile NAME].
	Name string

	Region string

	// Static keys, set only when the access key and the secret key are
	// both there, with the session token from the same file.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// AccountID is aws_account_id, which goes with the static keys.
	AccountID string

	// Assuming a role: RoleARN with credentials from SourceProfile (loaded
	// into Source), from CredentialSource ("Environment", "Ec2InstanceMetadata",
	// "EcsContainer"), or from WebIdentityTokenFile.
	RoleARN          string
	SourceProfile    string
	CredentialSource string
	ExternalID       string
	RoleSessionName  string
	// DurationSeconds is duration_seconds; 0: not set.
	DurationSeconds      int
	MFASerial            string
	WebIdentityTokenFile string

	// Source is the profile SourceProfile names, itself loaded with its own
	// sources. As in the SDK, when a chain comes back to a profile it has
	// passed, that profile's role settings are dropped and its own
	// credentials end the chain; and a source profile with static keys
	// ends the chain there, its keys then assuming its RoleARN if it has
	// one.
	Source *Profile

	// CredentialProcess is a command that prints credentials; see Process.
	CredentialProcess string

	// AWS IAM Identity Center (SSO). With SSOSession, SSOStartURL and
	// SSORegion come from its [sso-session NAME] section; without it, they
	// are the profile's own (the legacy form).
	SSOSession   string
	SSOStartURL  string
	SSORegion    string
	SSOAccountID string
	SSORoleName  string

	// LoginSession is login_session, from "aws login".
	LoginSession string

	// EndpointURL is the endpoint_url of the s3 entry of the profile's
	// services section, else the profile's endpoint_url.
	EndpointURL string
	// serviceEndpoint says that EndpointURL came from the services section,
	// which comes before AWS_ENDPOINT_URL (see LoadSettings).
	serviceEndpoint bool
	// Services is the name of the profile's [services NAME] section.
	Services                     string
	IgnoreConfiguredEndpointURLs bool
	UseFIPSEndpoint              bool
	UseDualStackEndpoint         bool

	// CABundle is ca_bundle: a PEM file of the certificate authorities to
	// trust instead of the system's.
	CABundle string

	// The instance metadata service's settings: its endpoint, "IPv4" or
	// "IPv6", and whether IMDSv1 (without a token) is refused.
	EC2MetadataServiceEndpoint     string
	EC2MetadataServiceEndpointMode string
	EC2MetadataV1Disabled          bool
}

// ProfileName is the profile to use: AWS_PROFILE, else AWS_DEFAULT_PROFILE
// (which the SDK for Go v2 also reads), else "default".
func ProfileName(env Env) string {
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if v := env(k); v != "" {
			return v
		}
	}
	return "default"
}

// ProfileNotFoundError says that a named profile is in neither file.
type ProfileNotFoundError struct {
	Profile         string
	ConfigFile      string
	CredentialsFile string
}

func (e *ProfileNotFoundError) Error() string {
	return fmt.Sprintf("AWS profile %q is in neither %s ([profile %s]) nor %s ([%s])",
		e.Profile, orNone(e.ConfigFile), e.Profile, orNone(e.CredentialsFile), e.Profile)
}

func orNone(path string) string {
	if path == "" {
		return "the config file (no HOME)"
	}
	return path
}

// LoadProfile reads the profile name from the shared config file
// (AWS_CONFIG_FILE, else ~/.aws/config) and the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials). A file that does
// not exist is empty; one that cannot be read or parsed is an error. A
// profile other than "default" that is in neither file is a
// *ProfileNotFoundError; a missing default profile is empty.
func LoadProfile(env Env, name string) (Profile, error) {
	cfgPath, credPath := configPaths(env)
	files := profileFiles{}
	var err error
	if cfgPath != "" {
		if files.config, err = readINI(cfgPath); err != nil {
			return Profile{}, err
		}
	}
	if credPath != "" {
		if files.credentials, err = readINI(credPath); err != nil {
			return Profile{}, err
		}
	}
	p, err := files.load(name, map[string]bool{}, 0)
	var nf *ProfileNotFoundError
	if errors.As(err, &nf) {
		if name == "default" && nf.Profile == name {
			return Profile{Name: name}, nil
		}
		nf.ConfigFile, nf.CredentialsFile = cfgPath, credPath
	}
	return p, err
}

// configPaths gives the shared config and credentials files' paths; ""
// when neither the variable nor HOME is set.
func configPaths(env Env) (config, credentials string) {
	home := env("HOME")
	path := func(variable, base string) string {
		if p := env(variable); p != "" {
			// The CLI expands ~; the SDK for Go does not, and would look
			// for a directory named ~.
			if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
				return filepath.Join(home, rest)
			}
			return p
		}
		if home == "" {
			return ""
		}
		return filepath.Join(home, ".aws", base)
	}
	return path("AWS_CONFIG_FILE", "config"), path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

// profileFiles are the two files, either nil when absent.
type profileFiles struct {
	config, credentials *iniFile
}

// sections gives the profile's sections: in the config file, [profile
// NAME] (or, for the default profile, [profile default], else
// [default]); in the credentials file, [NAME]. Either may be nil.
func (f profileFiles) sections(name string) (cfg, cred *iniSection) {
	if f.config != nil {
		cfg = f.config.sections["profile "+name]
		if cfg == nil && strings.EqualFold(name, "default") {
			cfg = f.config.sections[name]
		}
	}
	if f.credentials != nil && !strings.HasPrefix(name, "profile ") {
		cred = f.credentials.sections[name]
	}
	return cfg, cred
}

// setting is one value of a profile, and where it is.
type setting struct {
	value *iniValue
	file  string
}

func (s setting) String() string { return s.value.text() }

// errorf gives an error about the setting, naming its file and line and
// never its value.
func (s setting) errorf(key, format string, args ...any) error {
	return fmt.Errorf("AWS config file %s:%d: %s: %s", s.file, s.value.line, key, fmt.Sprintf(format, args...))
}

// load loads the profile name, and its source profiles; visited holds the
// profiles the chain has passed, depth how many.
func (f profileFiles) load(name string, visited map[string]bool, depth int) (Profile, error) {
	cfgSec, credSec := f.sections(name)
	if cfgSec == nil && credSec == nil {
		return Profile{}, &ProfileNotFoundError{Profile: name}
	}
	values := map[string]setting{}
	for _, s := range []struct {
		sec  *iniSection
		file *iniFile
	}{{cfgSec, f.config}, {credSec, f.credentials}} {
		if s.sec == nil {
			continue
		}
		for k, v := range s.sec.values {
			values[k] = setting{v, s.file.path}
		}
	}
	p := Profile{Name: name}
	str := func(key string, dst *string) {
		if s, ok := values[key]; ok {
			*dst = s.String()
		}
	}
	boolean := func(key string, dst *bool) error {
		s, ok := values[key]
		if !ok {
			return nil
		}
		switch v := s.String(); {
		case strings.EqualFold(v, "true"):
			*dst = true
		case strings.EqualFold(v, "false"):
			*dst = false
		default:
			return s.errorf(key, "expected true or false")
		}
		return nil
	}
	str("region", &p.Region)
	str("role_arn", &p.RoleARN)
	str("source_profile", &p.SourceProfile)
	str("credential_source", &p.CredentialSource)
	str("external_id", &p.ExternalID)
	str("role_session_name", &p.RoleSessionName)
	str("mfa_serial", &p.MFASerial)
	str("web_identity_token_file", &p.WebIdentityTokenFile)
	str("credential_process", &p.CredentialProcess)
	str("sso_session", &p.SSOSession)
	str("sso_start_url", &p.SSOStartURL)
	str("sso_region", &p.SSORegion)
	str("sso_account_id", &p.SSOAccountID)
	str("sso_role_name", &p.SSORoleName)
	str("login_session", &p.LoginSession)
	str("endpoint_url", &p.EndpointURL)
	str("services", &p.Services)
	str("ca_bundle", &p.CABundle)
	str("ec2_metadata_service_endpoint", &p.EC2MetadataServiceEndpoint)
	str("ec2_metadata_service_endpoint_mode", &p.EC2MetadataServiceEndpointMode)
	for _, b := range []struct {
		key string
		dst *bool
	}{
		{"ignore_configured_endpoint_urls", &p.IgnoreConfiguredEndpointURLs},
		{"use_fips_endpoint", &p.UseFIPSEndpoint},
		{"use_dualstack_endpoint", &p.UseDualStackEndpoint},
		{"ec2_metadata_v1_disabled", &p.EC2MetadataV1Disabled},
	} {
		if err := boolean(b.key, b.dst); err != nil {
			return Profile{}, err
		}
	}
	if s, ok := values["duration_seconds"]; ok {
		n, err := strconv.Atoi(s.String())
		if err != nil || n < 0 {
			return Profile{}, s.errorf("duration_seconds", "expected a whole number of seconds")
		}
		p.DurationSeconds = n
	}
	if err := p.setKeys(cfgSec, credSec, f); err != nil {
		return Profile{}, err
	}

	if visited[name] {
		// Back at a profile of the chain: as in the SDK, only its own
		// credentials count.
		p.RoleARN, p.ExternalID, p.MFASerial, p.RoleSessionName, p.SourceProfile = "", "", "", "", ""
	} else {
		for _, c := range []struct{ key, value string }{
			{"source_profile", p.SourceProfile},
			{"credential_source", p.CredentialSource},
			{"web_identity_token_file", p.WebIdentityTokenFile},
		} {
			if c.value != "" && p.RoleARN == "" {
				return Profile{}, fmt.Errorf("AWS profile %q: %s needs a role_arn", name, c.key)
			}
		}
	}
	if depth > 0 && p.AccessKeyID != "" {
		return p, nil
	}
	visited[name] = true
	var kinds []string
	for _, c := range []struct{ key, value string }{
		{"source_profile", p.SourceProfile},
		{"credential_source", p.CredentialSource},
		{"credential_process", p.CredentialProcess},
		{"web_identity_token_file", p.WebIdentityTokenFile},
	} {
		if c.value != "" {
			kinds = append(kinds, c.key)
		}
	}
	if len(kinds) > 1 {
		return Profile{}, fmt.Errorf("AWS profile %q: %s: a profile may have only one of these", name, strings.Join(kinds, " and "))
	}

	if p.SourceProfile != "" {
		if depth+1 >= maxSourceProfiles {
			return Profile{}, fmt.Errorf("AWS profile %q: more than %d profiles linked by source_profile", name, maxSourceProfiles)
		}
		// The source profile gives the credentials; this one's own are
		// ignored, as in the SDK.
		p.CredentialSource, p.CredentialProcess, p.WebIdentityTokenFile = "", "", ""
		p.AccessKeyID, p.SecretAccessKey, p.SessionToken, p.AccountID = "", "", "", ""
		p.SSOAccountID, p.SSORegion, p.SSORoleName, p.SSOStartURL = "", "", "", ""
		src, err := f.load(p.SourceProfile, visited, depth+1)
		var nf *ProfileNotFoundError
		switch {
		case errors.As(err, &nf) && nf.Profile == p.SourceProfile:
			return Profile{}, fmt.Errorf("AWS profile %q: its source_profile %q is in neither file", name, p.SourceProfile)
		case err != nil:
			return Profile{}, err
		case !src.hasCredentials():
			return Profile{}, fmt.Errorf("AWS profile %q: its source_profile %q has no credentials%s", name, p.SourceProfile, cycleNote(visited, src.Name))
		}
		p.Source = &src
	}

	if p.SSOSession != "" {
		if err := p.setSSOSession(f.config); err != nil {
			return Profile{}, err
		}
	}
	if p.Services != "" && f.config != nil {
		if sec := f.config.sections["services "+p.Services]; sec != nil {
			if s3 := sec.values["s3"]; s3 != nil {
				if u, ok := s3.sub["endpoint_url"]; ok {
					p.EndpointURL, p.serviceEndpoint = u, true
				}
			}
		}
	}
	return p, nil
}

// cycleNote explains a source profile without credentials that the
// chain had already passed.
func cycleNote(visited map[string]bool, name string) string {
	if visited[name] {
		return " (the source_profile links loop back to it)"
	}
	return ""
}

// setKeys sets the static keys. As in the SDK, an access key without a
// secret key or the other way round is an error, judged on the
// credentials file's section when the profile is there, else the config
// file's; and the keys come from the credentials file when it has both,
// the session token (unlike in the SDK) always from the keys' file.
func (p *Profile) setKeys(cfgSec, credSec *iniSection, f profileFiles) error {
	judged, file := cfgSec, f.config
	if credSec != nil {
		judged, file = credSec, f.credentials
	}
	id, hasID := judged.values["aws_access_key_id"]
	secret, hasSecret := judged.values["aws_secret_access_key"]
	if hasID != hasSecret {
		line := secret
		if hasID {
			line = id
		}
		return fmt.Errorf("AWS config file %s:%d: profile %q has only one of aws_access_key_id and aws_secret_access_key",
			file.path, line.line, p.Name)
	}
	for _, sec := range []*iniSection{credSec, cfgSec} {
		if sec == nil {
			continue
		}
		id, hasID = sec.values["aws_access_key_id"]
		secret, hasSecret = sec.values["aws_secret_access_key"]
		if !hasID || !hasSecret {
			continue
		}
		if id.text() == "" || secret.text() == "" {
			break // as good as no keys
		}
		p.AccessKeyID, p.SecretAccessKey = id.text(), secret.text()
		if t := sec.values["aws_session_token"]; t != nil {
			p.SessionToken = t.text()
		}
		if a := sec.values["aws_account_id"]; a != nil {
			p.AccountID = a.text()
		}
		break
	}
	return nil
}

// setSSOSession merges in the profile's [sso-session NAME] section.
func (p *Profile) setSSOSession(config *iniFile) error {
	name := strings.TrimSpace(p.SSOSession)
	var sec *iniSection
	if config != nil {
		sec = config.sections["sso-session "+name]
	}
	if sec == nil {
		return fmt.Errorf("AWS profile %q: its sso_session %q has no [sso-session %s] section in the config file", p.Name, name, name)
	}
	for _, v := range []struct {
		key string
		dst *string
	}{{"sso_region", &p.SSORegion}, {"sso_start_url", &p.SSOStartURL}} {
		s, ok := sec.values[v.key]
		if !ok {
			continue
		}
		if *v.dst != "" && *v.dst != s.text() {
			return fmt.Errorf("AWS profile %q: its %s differs from that of [sso-session %s]", p.Name, v.key, name)
		}
		*v.dst = s.text()
	}
	return nil
}

// hasCredentials says whether a source profile gives credentials, as the
// SDK judges it.
func (p *Profile) hasCredentials() bool {
	return p.SourceProfile != "" || p.CredentialSource != "" || p.CredentialProcess != "" ||
		p.WebIdentityTokenFile != "" || p.SSOSession != "" || p.SSOStartURL != "" ||
		p.SSORegion != "" || p.SSOAccountID != "" || p.SSORoleName != "" || p.AccessKeyID != ""
}

// Settings are what reading from S3 needs besides credentials.
type Settings struct {
	// Region is AWS_REGION, else AWS_DEFAULT_REGION, else the profile's.
	Region string
	// EndpointURL is the S3 endpoint, as the SDK resolves it for S3:
	// AWS_ENDPOINT_URL_S3, else the endpoint_url of the profile's
	// services section's s3 entry, else AWS_ENDPOINT_URL, else the
	// profile's endpoint_url; none of them when
	// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, or when it is unset and
	// the profile has ignore_configured_endpoint_urls = true.
	EndpointURL string
	// CABundle is AWS_CA_BUNDLE, else the profile's ca_bundle.
	CABundle string
	// Profile is the profile ProfileName names.
	Profile Profile
}

// ignoreEndpoints says whether no configured endpoint applies, for any
// service: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the profile's
// ignore_configured_endpoint_urls.
func ignoreEndpoints(env Env, p Profile) (bool, error) {
	switch v := env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); {
	case v == "":
		return p.IgnoreConfiguredEndpointURLs, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	default:
		return false, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=%s: expected true or false", v)
	}
}

// LoadSettings loads the profile ProfileName names and resolves the
// region, the S3 endpoint and the CA bundle from the environment and it.
func LoadSettings(env Env) (Settings, error) {
	p, err := LoadProfile(env, ProfileName(env))
	if err != nil {
		return Settings{}, err
	}
	s := Settings{Profile: p, Region: p.Region, CABundle: p.CABundle}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := env(k); v != "" {
			s.Region = v
			break
		}
	}
	if v := env("AWS_CA_BUNDLE"); v != "" {
		s.CABundle = v
	}
	ignore, err := ignoreEndpoints(env, p)
	switch {
	case err != nil:
		return Settings{}, err
	case ignore:
		return s, nil
	}
	switch {
	case env("AWS_ENDPOINT_URL_S3") != "":
		s.EndpointURL = env("AWS_ENDPOINT_URL_S3")
	case p.serviceEndpoint:
		s.EndpointURL = p.EndpointURL
	case env("AWS_ENDPOINT_URL") != "":
		s.EndpointURL = env("AWS_ENDPOINT_URL")
	default:
		s.EndpointURL = p.EndpointURL
	}
	return s, nil
}
