package awsauth

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// STS calls the AWS Security Token Service for the temporary keys of a
// role.
type STS struct {
	// Client sends the requests; nil: a client with a 30 s timeout.
	Client *http.Client
	// Endpoint is the service's URL; "": https://sts.REGION.DNS-SUFFIX
	// (see DNSSuffix).
	Endpoint string
	// Region is the region of the endpoint and of the signature; "":
	// us-east-1.
	Region string
}

// defaultAssumeRoleDuration is what the AWS SDK for Go asks for when the
// profile says nothing.
const defaultAssumeRoleDuration = 15 * time.Minute

// DNSSuffix returns the domain of AWS endpoints in region's partition:
// amazonaws.com, amazonaws.com.cn for cn-*, and the suffixes of the
// European sovereign and isolated partitions (as in the AWS SDKs'
// partitions.json).
func DNSSuffix(region string) string {
	for _, p := range partitionSuffixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
}

// partitionSuffixes maps region prefixes to their partitions' domains,
// longer prefixes first ("us-isob-" before "us-iso-").
var partitionSuffixes = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},
	{"eusc-", "amazonaws.eu"},
	{"us-isob-", "sc2s.sgov.gov"},
	{"us-isof-", "csp.hci.ic.gov"},
	{"us-iso-", "c2s.ic.gov"},
	{"eu-isoe-", "cloud.adc-e.uk"},
}

// DNSLabel says whether s is 1 to 63 lower-case letters, digits and
// hyphens: what a region (or a bucket, in a virtual-hosted S3 URL) must
// be to stand in a host name.
func DNSLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (s *STS) region() string {
	if s.Region == "" {
		return "us-east-1"
	}
	return s.Region
}

func (s *STS) endpoint() (string, error) {
	if s.Endpoint != "" {
		return strings.TrimSuffix(s.Endpoint, "/") + "/", nil
	}
	r := s.region()
	if !DNSLabel(r) {
		return "", fmt.Errorf("region %q is not a valid region name", r)
	}
	return "https://sts." + r + "." + DNSSuffix(r) + "/", nil
}

// AssumeRole asks STS for the keys of roleARN on behalf of src.
// sessionName "" is "dumpscope-" and the time; externalID "" is not sent;
// duration 0 is 15 minutes.
func (s *STS) AssumeRole(ctx context.Context, src Credentials, roleARN, sessionName, externalID string, duration time.Duration) (Credentials, error) {
	if duration == 0 {
		duration = defaultAssumeRoleDuration
	}
	form, err := roleForm("AssumeRole", roleARN, sessionName, duration)
	if err != nil {
		return Credentials{}, err
	}
	if externalID != "" {
		form.Set("ExternalId", externalID)
	}
	secrets := []string{src.SecretAccessKey, src.SessionToken, externalID}
	c, err := s.call(ctx, &src, roleARN, form, secrets)
	if err != nil {
		return Credentials{}, hideSecrets(fmt.Errorf("assuming role %s: %w", roleARN, err), secrets...)
	}
	return c, nil
}

// AssumeRoleWithWebIdentity asks STS for the keys of roleARN in exchange
// for an OpenID Connect token (the request is not signed). sessionName ""
// is "dumpscope-" and the time; duration 0 leaves it to the role (an
// hour by default).
func (s *STS) AssumeRoleWithWebIdentity(ctx context.Context, roleARN, sessionName, token string, duration time.Duration) (Credentials, error) {
	form, err := roleForm("AssumeRoleWithWebIdentity", roleARN, sessionName, duration)
	if err != nil {
		return Credentials{}, err
	}
	if token == "" {
		return Credentials{}, fmt.Errorf("assuming role %s with a web identity: the token is empty", roleARN)
	}
	form.Set("WebIdentityToken", token)
	c, err := s.call(ctx, nil, roleARN, form, []string{token})
	if err != nil {
		return Credentials{}, hideSecrets(fmt.Errorf("assuming role %s with a web identity: %w", roleARN, err), token)
	}
	return c, nil
}

// roleForm returns the parameters common to both calls.
func roleForm(action, roleARN, sessionName string, duration time.Duration) (url.Values, error) {
	if roleARN == "" {
		return nil, errors.New("assuming a role: no role ARN")
	}
	if duration < 0 || duration%time.Second != 0 || duration > 1<<31*time.Second {
		return nil, fmt.Errorf("assuming role %s: duration %v is not a whole number of seconds", roleARN, duration)
	}
	if sessionName == "" {
		sessionName = "dumpscope-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	form := url.Values{}
	form.Set("Action", action)
	form.Set("Version", "2011-06-15")
	form.Set("RoleArn", roleARN)
	form.Set("RoleSessionName", sessionName)
	if duration > 0 {
		form.Set("DurationSeconds", strconv.FormatInt(int64(duration/time.Second), 10))
	}
	return form, nil
}

// stsCredentials is the Credentials element of both answers.
type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// stsAnswer is either answer: <ActionResponse><ActionResult><Credentials>.
type stsAnswer struct {
	XMLName     xml.Name
	AssumeRole  *stsCredentials `xml:"AssumeRoleResult>Credentials"`
	WebIdentity *stsCredentials `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
}

// stsError is the error document of the query protocol.
type stsError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
		// Some answers spell it in lower case.
		LowerMessage string `xml:"message"`
	} `xml:"Error"`
}

// call POSTs form (signed with src when not nil) and reads the keys from
// the answer. secrets are kept out of messages.
func (s *STS) call(ctx context.Context, src *Credentials, roleARN string, form url.Values, secrets []string) (Credentials, error) {
	ep, err := s.endpoint()
	if err != nil {
		return Credentials{}, err
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep, bytes.NewReader(body))
	if err != nil {
		return Credentials{}, fmt.Errorf("STS endpoint %q: %w", s.Endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if src != nil {
		if src.AccessKeyID == "" || src.SecretAccessKey == "" {
			return Credentials{}, errors.New("no source credentials to call STS with")
		}
		Sign(req, *src, s.region(), "sts", PayloadHash(body), time.Now())
	}
	resp, answer, err := send(s.Client, req)
	if err != nil {
		return Credentials{}, fmt.Errorf("STS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e stsError
		if xml.Unmarshal(answer, &e) == nil && e.Error.Code != "" {
			msg := e.Error.Message
			if msg == "" {
				msg = e.Error.LowerMessage
			}
			return Credentials{}, fmt.Errorf("STS answered %s: %s (HTTP %d)",
				oneLine(e.Error.Code, 100), oneLine(scrub(msg, secrets...), 400), resp.StatusCode)
		}
		return Credentials{}, fmt.Errorf("STS answered HTTP %d", resp.StatusCode)
	}
	var a stsAnswer
	if err := xml.Unmarshal(answer, &a); err != nil {
		return Credentials{}, errors.New("STS answered with malformed XML")
	}
	action := form.Get("Action")
	if a.XMLName.Local != action+"Response" {
		return Credentials{}, fmt.Errorf("STS answered with <%s>, not <%sResponse>", oneLine(a.XMLName.Local, 64), action)
	}
	c := a.AssumeRole
	if action != "AssumeRole" {
		c = a.WebIdentity
	}
	if c == nil || c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		return Credentials{}, errors.New("STS answered without complete credentials")
	}
	exp, err := time.Parse(time.RFC3339, strings.TrimSpace(c.Expiration))
	if err != nil {
		return Credentials{}, fmt.Errorf("STS answered with expiration %q, not an RFC 3339 time", oneLine(c.Expiration, 40))
	}
	return Credentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expires:         exp,
		Source:          "assumed role " + roleARN,
	}, nil
}
