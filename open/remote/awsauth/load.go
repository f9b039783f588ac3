package awsauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is what an S3 client needs of the AWS configuration.
type Config struct {
	// Region is "" when neither the environment nor the profile names one.
	Region string
	// EndpointURL is the S3 endpoint the environment or the profile
	// configures, or "".
	EndpointURL string
	// CABundle is a PEM file of certificates to trust, or "".
	CABundle string
	// Credentials are fetched on first use and kept until shortly before
	// they expire.
	Credentials Provider
}

// Load reads the AWS configuration as the AWS CLI and SDKs do (see
// LoadSettings) and picks where credentials come from. It fetches none:
// a provider that needs the network (STS, SSO, a container's or the
// instance's endpoint) asks on the first Retrieve. hc, when not nil, is
// the client of those requests.
func Load(ctx context.Context, env Env, hc *http.Client) (Config, error) {
	s, err := LoadSettings(env)
	if err != nil {
		return Config{}, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: credentialTimeout}
	}
	ignore, _ := ignoreEndpoints(env, s.Profile) // LoadSettings has checked it
	c := chain{env: env, hc: hc, region: s.Region, ignoreEndpoints: ignore}
	p, err := c.fromEnvironment(s.Profile)
	if err != nil {
		return Config{}, err
	}
	return Config{Region: s.Region, EndpointURL: s.EndpointURL, CABundle: s.CABundle, Credentials: Cached(p)}, nil
}

// credentialTimeout bounds one request for credentials.
const credentialTimeout = 30 * time.Second

// chain picks a provider in the SDKs' order (aws-sdk-go-v2
// config/resolve_credentials.go).
type chain struct {
	env             Env
	hc              *http.Client
	region          string
	ignoreEndpoints bool // as LoadSettings decided it
}

// fromEnvironment: the environment's keys, else the environment's web
// identity token, else the profile.
func (c chain) fromEnvironment(p Profile) (Provider, error) {
	if keys, ok := c.envKeys(); ok {
		return keys, nil
	} else if c.env("AWS_ACCESS_KEY_ID") != "" {
		return nil, errors.New("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
	}
	if file := c.env("AWS_WEB_IDENTITY_TOKEN_FILE"); file != "" {
		role := c.env("AWS_ROLE_ARN")
		if role == "" {
			return nil, errors.New("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
		}
		return c.webIdentity(file, role, c.env("AWS_ROLE_SESSION_NAME"), 0), nil
	}
	return c.fromProfile(p, 0)
}

// envKeys are the environment's keys, when both are set.
func (c chain) envKeys() (Provider, bool) {
	k, secret := c.env("AWS_ACCESS_KEY_ID"), c.env("AWS_SECRET_ACCESS_KEY")
	if k == "" || secret == "" {
		return nil, false
	}
	return static{Credentials{AccessKeyID: k, SecretAccessKey: secret, SessionToken: c.env("AWS_SESSION_TOKEN"), Source: "environment"}}, true
}

// fromProfile: the profile's source of credentials, then its role when it
// names one.
func (c chain) fromProfile(p Profile, depth int) (Provider, error) {
	if depth > maxSourceProfiles {
		return nil, fmt.Errorf("profile %s: more than %d profiles chained through source_profile", p.Name, maxSourceProfiles)
	}
	var base Provider
	switch {
	case p.Source != nil:
		// A role assumed with the source profile's credentials; a profile
		// that is its own source (LoadProfile keeps only its keys) ends
		// the chain.
		var err error
		if base, err = c.fromProfile(*p.Source, depth+1); err != nil {
			return nil, err
		}
	case p.hasKeys():
		// Keys, and with a role_arn beside them, the role they assume.
		base = p.static()
	case p.CredentialSource != "":
		var err error
		if base, err = c.credentialSource(p); err != nil {
			return nil, err
		}
	case p.WebIdentityTokenFile != "":
		if p.RoleARN == "" {
			return nil, fmt.Errorf("profile %s has web_identity_token_file but no role_arn", p.Name)
		}
		return c.webIdentity(p.WebIdentityTokenFile, p.RoleARN, p.RoleSessionName, p.DurationSeconds), nil
	case p.SSOStartURL != "" || p.SSOSession != "":
		if p.SSOAccountID == "" || p.SSORoleName == "" || p.SSORegion == "" || p.SSOStartURL == "" {
			return nil, fmt.Errorf("profile %s: incomplete SSO settings (sso_start_url, sso_region, sso_account_id and sso_role_name, or an sso_session with them)", p.Name)
		}
		base = &SSO{Client: c.hc, CacheDir: c.ssoCache(), StartURL: p.SSOStartURL, Region: p.SSORegion,
			SessionName: p.SSOSession, AccountID: p.SSOAccountID, RoleName: p.SSORoleName, PortalEndpoint: c.serviceEndpoint("SSO"), Profile: p.Name}
	case p.CredentialProcess != "":
		base = Process{Command: p.CredentialProcess, Profile: p.Name}
	default:
		base = c.machine(p.Name)
	}
	if p.RoleARN == "" {
		return base, nil
	}
	if p.MFASerial != "" {
		return nil, fmt.Errorf("profile %s assumes its role with an MFA code (mfa_serial), which dumpscope cannot ask for: export temporary credentials (aws configure export-credentials --profile %s --format env) and run again", p.Name, p.Name)
	}
	return c.assumeRole(base, p), nil
}

// credentialSource is the source a role profile names instead of a
// source_profile.
func (c chain) credentialSource(p Profile) (Provider, error) {
	switch p.CredentialSource {
	case "Environment":
		if keys, ok := c.envKeys(); ok {
			return keys, nil
		}
		return nil, fmt.Errorf("profile %s: credential_source Environment, but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set", p.Name)
	case "Ec2InstanceMetadata":
		return c.instance(), nil
	case "EcsContainer":
		u, err := ContainerURL(c.env)
		if err != nil {
			return nil, err
		}
		if u == "" {
			return nil, fmt.Errorf("profile %s: credential_source EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set", p.Name)
		}
		return c.container(u), nil
	}
	return nil, fmt.Errorf("profile %s: credential_source %q is not Environment, Ec2InstanceMetadata or EcsContainer", p.Name, p.CredentialSource)
}

// machine is the last resort: a container's credentials endpoint when
// the environment names one, else the instance metadata service.
func (c chain) machine(profile string) Provider {
	u, err := ContainerURL(c.env)
	switch {
	case err != nil:
		return failing{err}
	case u != "":
		return c.container(u)
	case strings.EqualFold(c.env("AWS_EC2_METADATA_DISABLED"), "true"):
		return failing{fmt.Errorf("no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), none in profile %s, and the instance metadata service is off (AWS_EC2_METADATA_DISABLED)", profile)}
	}
	return noneFound{c.instance(), profile}
}

func (c chain) instance() Provider {
	return &IMDS{Client: c.hc, Endpoint: c.env("AWS_EC2_METADATA_SERVICE_ENDPOINT")}
}

func (c chain) container(u string) Provider {
	return &Container{Client: c.hc, URL: u, Token: c.env("AWS_CONTAINER_AUTHORIZATION_TOKEN"), TokenFile: c.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")}
}

func (c chain) sts() *STS {
	return &STS{Client: c.hc, Region: c.region, Endpoint: c.serviceEndpoint("STS")}
}

// serviceEndpoint is the endpoint the environment sets for a service
// other than S3 (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SSO, else
// AWS_ENDPOINT_URL), or "" for AWS's own.
func (c chain) serviceEndpoint(id string) string {
	if c.ignoreEndpoints {
		return ""
	}
	if u := c.env("AWS_ENDPOINT_URL_" + id); u != "" {
		return u
	}
	return c.env("AWS_ENDPOINT_URL")
}

// ssoCache is the AWS CLI's SSO token cache.
func (c chain) ssoCache() string {
	return filepath.Join(c.env("HOME"), ".aws", "sso", "cache")
}

func (c chain) webIdentity(file, role, session string, seconds int) Provider {
	return webIdentity{sts: c.sts(), file: file, role: role, session: sessionName(session), duration: duration(seconds)}
}

func (c chain) assumeRole(src Provider, p Profile) Provider {
	return assumedRole{sts: c.sts(), src: src, role: p.RoleARN, session: sessionName(p.RoleSessionName),
		externalID: p.ExternalID, duration: duration(p.DurationSeconds)}
}

// sessionName is the role session name, or one made up as the SDKs do.
func sessionName(s string) string {
	if s != "" {
		return s
	}
	return "dumpscope-" + strconv.FormatInt(time.Now().UnixNano(), 10)
}

// duration is duration_seconds, or the SDKs' 15 minutes.
func duration(seconds int) time.Duration {
	if seconds > 0 {
		return time.Duration(seconds) * time.Second
	}
	return 15 * time.Minute
}

func (p Profile) hasKeys() bool { return p.AccessKeyID != "" && p.SecretAccessKey != "" }

func (p Profile) static() Provider {
	return static{Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey, SessionToken: p.SessionToken, Source: "profile " + p.Name}}
}

// static are keys known at once.
type static struct{ c Credentials }

func (s static) Retrieve(context.Context) (Credentials, error) { return s.c, nil }

// failing is a choice that cannot give credentials, said on first use.
type failing struct{ err error }

func (f failing) Retrieve(context.Context) (Credentials, error) { return Credentials{}, f.err }

// noneFound says, when the instance metadata service has no role
// either, that nothing else had credentials.
type noneFound struct {
	p       Provider
	profile string
}

func (n noneFound) Retrieve(ctx context.Context) (Credentials, error) {
	c, err := n.p.Retrieve(ctx)
	if err != nil {
		return c, fmt.Errorf("no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), none in profile %s, and %w", n.profile, err)
	}
	return c, nil
}

// webIdentity exchanges a web identity token (read anew each time: it
// rotates) for a role's credentials.
type webIdentity struct {
	sts                 *STS
	file, role, session string
	duration            time.Duration
}

func (w webIdentity) Retrieve(ctx context.Context) (Credentials, error) {
	token, err := readToken(w.file)
	if err != nil {
		return Credentials{}, err
	}
	return w.sts.AssumeRoleWithWebIdentity(ctx, w.role, w.session, token, w.duration)
}

// assumedRole assumes a role with another provider's credentials.
type assumedRole struct {
	sts                       *STS
	src                       Provider
	role, session, externalID string
	duration                  time.Duration
}

func (a assumedRole) Retrieve(ctx context.Context) (Credentials, error) {
	src, err := a.src.Retrieve(ctx)
	if err != nil {
		return Credentials{}, err
	}
	return a.sts.AssumeRole(ctx, src, a.role, a.session, a.externalID, a.duration)
}

// maxTokenFile bounds a web identity token file.
const maxTokenFile = 64 << 10

// readToken reads a token file, bounded, without its surrounding space.
func readToken(file string) (string, error) {
	b, ok, err := readSmallFile(file, maxTokenFile)
	switch {
	case err != nil:
		return "", fmt.Errorf("the web identity token: %w", err)
	case !ok:
		return "", fmt.Errorf("the web identity token %s is over %d bytes", file, maxTokenFile)
	case len(bytes.TrimSpace(b)) == 0:
		return "", fmt.Errorf("the web identity token %s is empty", file)
	}
	return string(bytes.TrimSpace(b)), nil
}
