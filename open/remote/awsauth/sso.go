package awsauth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SSO gets the keys of an IAM Identity Center (SSO) profile with the
// access token that `aws sso login` left in the AWS CLI's token cache.
// It does not log in, and does not refresh an expired token.
type SSO struct {
	// Client sends the request; nil: a client with a 30 s timeout.
	Client *http.Client
	// CacheDir holds the tokens; "": ~/.aws/sso/cache.
	CacheDir string
	// StartURL is the profile's sso_start_url; SessionName its
	// sso_session, "" for a legacy profile (sso_start_url in the profile
	// itself). The token file is named after SessionName when it is set,
	// else after StartURL.
	StartURL, Region, SessionName, AccountID, RoleName string
	// PortalEndpoint is the portal's URL; "":
	// https://portal.sso.REGION.DNS-SUFFIX.
	PortalEndpoint string
	// Profile is the profile's name, for messages; "" for the default.
	Profile string
}

// ssoToken is the part of a cached token file read here.
type ssoToken struct {
	AccessToken string `json:"accessToken"`
	ExpiresAt   string `json:"expiresAt"`
}

// ssoAnswer is GetRoleCredentials' answer.
type ssoAnswer struct {
	RoleCredentials *struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		Expiration      int64  `json:"expiration"` // ms since the epoch
	} `json:"roleCredentials"`
}

// ssoErrorAnswer is the error document of the portal's JSON protocol.
type ssoErrorAnswer struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (s *SSO) what() string {
	return "sso profile " + s.profileName() + " (account " + s.AccountID + ", role " + s.RoleName + ")"
}

func (s *SSO) profileName() string {
	if s.Profile == "" {
		return "default"
	}
	return s.Profile
}

// loginHint is the command that gets a new token.
func (s *SSO) loginHint() string {
	switch {
	case s.SessionName != "":
		return "aws sso login --sso-session " + s.SessionName
	case s.Profile != "":
		return "aws sso login --profile " + s.Profile
	}
	return "aws sso login"
}

// Retrieve reads the cached token and trades it for the role's keys.
func (s *SSO) Retrieve(ctx context.Context) (Credentials, error) {
	return retrieveHiding(ctx, s.retrieve, func(err error) error { return fmt.Errorf("%s: %w", s.what(), err) })
}

// retrieve adds the token it sends to sent.
func (s *SSO) retrieve(ctx context.Context, sent *[]string) (Credentials, error) {
	if s.AccountID == "" || s.RoleName == "" {
		return Credentials{}, errors.New("sso_account_id and sso_role_name are both needed")
	}
	token, err := s.cachedToken(time.Now())
	if err != nil {
		return Credentials{}, err
	}
	*sent = append(*sent, token)
	ep := s.PortalEndpoint
	if ep == "" {
		if !DNSLabel(s.Region) {
			return Credentials{}, fmt.Errorf("sso_region %q is not a valid region name", s.Region)
		}
		ep = "https://portal.sso." + s.Region + "." + DNSSuffix(s.Region)
	}
	q := url.Values{}
	q.Set("account_id", s.AccountID)
	q.Set("role_name", s.RoleName)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ep, "/")+"/federation/credentials?"+q.Encode(), nil)
	if err != nil {
		return Credentials{}, fmt.Errorf("portal endpoint %q: %w", ep, err)
	}
	req.Header.Set("X-Amz-Sso_bearer_token", token)
	req.Header.Set("Accept", "application/json")
	resp, body, err := send(s.Client, req)
	if err != nil {
		return Credentials{}, fmt.Errorf("SSO portal: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e ssoErrorAnswer
		if json.Unmarshal(body, &e) == nil && e.Type != "" {
			code := e.Type
			// The code may come as "namespace#Code" or "Code:url".
			if i := strings.LastIndexByte(code, '#'); i >= 0 {
				code = code[i+1:]
			}
			code, _, _ = strings.Cut(code, ":")
			msg := fmt.Sprintf("SSO portal answered %s: %s (HTTP %d)", oneLine(code, 100), oneLine(scrub(e.Message, token), 400), resp.StatusCode)
			if resp.StatusCode == http.StatusUnauthorized {
				msg += "; run `" + s.loginHint() + "`"
			}
			return Credentials{}, errors.New(msg)
		}
		return Credentials{}, fmt.Errorf("SSO portal answered HTTP %d", resp.StatusCode)
	}
	var a ssoAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Credentials{}, errors.New("SSO portal answered with malformed JSON")
	}
	rc := a.RoleCredentials
	if rc == nil || rc.AccessKeyID == "" || rc.SecretAccessKey == "" || rc.SessionToken == "" || rc.Expiration <= 0 {
		return Credentials{}, errors.New("SSO portal answered without complete credentials")
	}
	return Credentials{
		AccessKeyID:     rc.AccessKeyID,
		SecretAccessKey: rc.SecretAccessKey,
		SessionToken:    rc.SessionToken,
		Expires:         time.UnixMilli(rc.Expiration).UTC(),
		Source:          s.what(),
	}, nil
}

// cachedToken returns the access token of the cache file, if it is there
// and has not expired at now.
func (s *SSO) cachedToken(now time.Time) (string, error) {
	dir := s.CacheDir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the SSO token cache: %w", err)
		}
		dir = filepath.Join(home, ".aws", "sso", "cache")
	}
	key := s.StartURL
	if s.SessionName != "" {
		key = s.SessionName
	}
	if key == "" {
		return "", errors.New("neither sso_session nor sso_start_url is set")
	}
	sum := sha1.Sum([]byte(key))
	name := filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
	data, err := readBounded(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no SSO token in %s; run `%s`", name, s.loginHint())
	}
	if err != nil {
		return "", fmt.Errorf("reading the SSO token: %w", err)
	}
	var t ssoToken
	if err := json.Unmarshal(data, &t); err != nil {
		return "", fmt.Errorf("SSO token file %s is not valid JSON; run `%s`", name, s.loginHint())
	}
	if t.AccessToken == "" || t.ExpiresAt == "" {
		return "", fmt.Errorf("SSO token file %s lacks accessToken or expiresAt; run `%s`", name, s.loginHint())
	}
	exp, err := parseExpiresAt(t.ExpiresAt)
	if err != nil {
		return "", fmt.Errorf("SSO token file %s: expiresAt %q is not an RFC 3339 time", name, oneLine(t.ExpiresAt, 40))
	}
	if !now.Before(exp) {
		return "", fmt.Errorf("the SSO token expired at %s; run `%s`", exp.UTC().Format(time.RFC3339), s.loginHint())
	}
	return t.AccessToken, nil
}

// parseExpiresAt reads an RFC 3339 time, or the "2006-01-02T15:04:05UTC"
// form that early versions of the AWS CLI v2 wrote (2020).
func parseExpiresAt(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err == nil {
		return t, nil
	}
	if t2, err2 := time.Parse("2006-01-02T15:04:05UTC", v); err2 == nil {
		return t2, nil
	}
	return time.Time{}, err
}

// readBounded reads a small file, refusing one larger than maxAnswer.
func readBounded(name string) ([]byte, error) {
	data, ok, err := readSmallFile(name, maxAnswer)
	if err == nil && !ok {
		err = fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return data, err
}
