package awsauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	testRole   = "arn:aws:iam::123456789012:role/dumps"
	testExpiry = "2030-01-02T03:04:05Z"
)

var sourceCreds = Credentials{AccessKeyID: "AKIDSOURCE", SecretAccessKey: "source/secret+key", SessionToken: "source-session"}

// stsServer is a fake STS that checks the signature of signed calls with
// the AWS SDK's signer and records the forms it was sent.
type stsServer struct {
	t *testing.T
	canned
	mu    sync.Mutex
	forms []url.Values
	sigOK []bool
}

func (s *stsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/" {
		http.Error(w, "bad request", 400)
		return
	}
	s.mu.Lock()
	s.forms = append(s.forms, form)
	s.sigOK = append(s.sigOK, s.checkSignature(r, body))
	s.mu.Unlock()
	if s.write(w) {
		return
	}
	a := form.Get("Action")
	fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult>
  <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/dumps/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
  <Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp/secret</SecretAccessKey><SessionToken>temp-token</SessionToken><Expiration>%s</Expiration></Credentials>
</%sResult><ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata></%sResponse>`, a, a, testExpiry, a, a)
}

// checkSignature re-signs the request it got, with only the headers it
// says it signed, with the SDK's signer and source keys, and compares.
func (s *stsServer) checkSignature(r *http.Request, body []byte) bool {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return false
	}
	_, rest, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ := strings.Cut(rest, ",")
	when, err := time.Parse(amzDateForm, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	re, _ := http.NewRequest(r.Method, u.String(), strings.NewReader(string(body)))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "content-length" && h != "x-amz-date" {
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{
		AccessKeyID: sourceCreds.AccessKeyID, SecretAccessKey: sourceCreds.SecretAccessKey, SessionToken: sourceCreds.SessionToken,
	}, re, PayloadHash(body), "sts", "eu-west-1", when)
	return err == nil && re.Header.Get("Authorization") == auth
}

func newSTS(t *testing.T, s *stsServer) (*STS, *httptest.Server) {
	s.t = t
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &STS{Client: srv.Client(), Endpoint: srv.URL, Region: "eu-west-1"}, srv
}

func TestAssumeRole(t *testing.T) {
	fake := &stsServer{}
	s, _ := newSTS(t, fake)
	c, err := s.AssumeRole(context.Background(), sourceCreds, testRole, "sess", "ext-id", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp/secret", SessionToken: "temp-token",
		Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Source: "assumed role " + testRole}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	f := fake.forms[0]
	for k, v := range map[string]string{"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": testRole,
		"RoleSessionName": "sess", "ExternalId": "ext-id", "DurationSeconds": "3600"} {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	if !fake.sigOK[0] {
		t.Error("the SDK's signer does not agree with the request's signature")
	}
	// Defaults: a session name, 15 minutes, no external ID.
	if _, err := s.AssumeRole(context.Background(), sourceCreds, testRole, "", "", 0); err != nil {
		t.Fatal(err)
	}
	f = fake.forms[1]
	if !strings.HasPrefix(f.Get("RoleSessionName"), "dumpscope-") || f.Get("DurationSeconds") != "900" || f.Has("ExternalId") {
		t.Errorf("defaults: %v", f)
	}
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	fake := &stsServer{}
	s, _ := newSTS(t, fake)
	c, err := s.AssumeRoleWithWebIdentity(context.Background(), testRole, "pod", "eyJ.jwt.token", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIATEMP" || c.SessionToken != "temp-token" || c.Source != "assumed role "+testRole {
		t.Fatalf("got %+v", c)
	}
	f := fake.forms[0]
	if f.Get("Action") != "AssumeRoleWithWebIdentity" || f.Get("WebIdentityToken") != "eyJ.jwt.token" ||
		f.Get("RoleSessionName") != "pod" || f.Has("DurationSeconds") {
		t.Errorf("form %v", f)
	}
	if fake.sigOK[0] {
		t.Error("a web identity call was signed")
	}
}

func TestSTSErrors(t *testing.T) {
	secretish := "eyJ.jwt.token"
	for _, tc := range []struct {
		name   string
		status int
		answer string
		want   string
	}{
		{"access denied", 403, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/u is not authorized
 to perform: sts:AssumeRole</Message></Error><RequestId>x</RequestId></ErrorResponse>`,
			"STS answered AccessDenied: User: arn:aws:iam::1:user/u is not authorized to perform: sts:AssumeRole (HTTP 403)"},
		{"lower-case message", 400, `<ErrorResponse><Error><Code>ExpiredTokenException</Code><message>expired</message></Error></ErrorResponse>`,
			"STS answered ExpiredTokenException: expired (HTTP 400)"},
		{"message quoting the token", 400, `<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad token ` + secretish + `</Message></Error></ErrorResponse>`,
			"InvalidIdentityToken: bad token [redacted] (HTTP 400)"},
		{"not XML", 503, `<html>Service Unavailable</html>`, "STS answered HTTP 503"},
		{"wrong status", 302, ``, "STS answered HTTP 302"},
		{"malformed XML", 200, `<AssumeRoleResponse><AssumeRoleResult>`, "malformed XML"},
		{"other document", 200, `<GetCallerIdentityResponse/>`, "not <AssumeRoleWithWebIdentityResponse>"},
		{"no credentials", 200, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, "without complete credentials"},
		{"bad expiration", 200, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>tomorrow</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, `expiration "tomorrow"`},
		{"oversized", 200, "<AssumeRoleWithWebIdentityResponse>" + strings.Repeat(" ", maxAnswer) + "</AssumeRoleWithWebIdentityResponse>", "larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSTS(t, &stsServer{canned: canned{tc.status, tc.answer}})
			_, err := s.AssumeRoleWithWebIdentity(context.Background(), testRole, "s", secretish, 0)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, testRole) {
				t.Fatalf("error %q, want it to hold %q and the role", msg, tc.want)
			}
			if strings.ContainsAny(msg, "\n\r") || strings.Contains(msg, secretish) {
				t.Fatalf("error %q has a line break or the token", msg)
			}
		})
	}
	// A signed call's error names neither the secret nor the token.
	s, _ := newSTS(t, &stsServer{canned: canned{403, `<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>key ` + sourceCreds.SecretAccessKey + ` token ` + sourceCreds.SessionToken + `</Message></Error></ErrorResponse>`}})
	_, err := s.AssumeRole(context.Background(), sourceCreds, testRole, "s", "", 0)
	if err == nil || strings.Contains(err.Error(), sourceCreds.SecretAccessKey) || strings.Contains(err.Error(), sourceCreds.SessionToken) {
		t.Fatalf("error %v", err)
	}
	if _, err := s.AssumeRole(context.Background(), Credentials{}, testRole, "s", "", 0); err == nil {
		t.Fatal("assumed a role without source keys")
	}
	if _, err := s.AssumeRole(context.Background(), sourceCreds, "", "s", "", 0); err == nil {
		t.Fatal("assumed a role without an ARN")
	}
	if _, err := s.AssumeRole(context.Background(), sourceCreds, testRole, "s", "", 1500*time.Millisecond); err == nil {
		t.Fatal("took a fractional duration")
	}
}

func TestSTSEndpoint(t *testing.T) {
	for region, want := range map[string]string{
		"":               "https://sts.us-east-1.amazonaws.com/",
		"eu-west-3":      "https://sts.eu-west-3.amazonaws.com/",
		"cn-north-1":     "https://sts.cn-north-1.amazonaws.com.cn/",
		"us-gov-west-1":  "https://sts.us-gov-west-1.amazonaws.com/",
		"us-iso-east-1":  "https://sts.us-iso-east-1.c2s.ic.gov/",
		"us-isob-east-1": "https://sts.us-isob-east-1.sc2s.sgov.gov/",
	} {
		got, err := (&STS{Region: region}).endpoint()
		if err != nil || got != want {
			t.Errorf("region %q: %q %v, want %q", region, got, err, want)
		}
	}
	if _, err := (&STS{Region: "evil.com/x"}).endpoint(); err == nil {
		t.Error("a region that is no host name part")
	}
	if got, _ := (&STS{Endpoint: "http://localhost:1/", Region: "x"}).endpoint(); got != "http://localhost:1/" {
		t.Errorf("endpoint override %q", got)
	}
}

// The SDK's providers against the same fake server send the same form
// and read the same keys.
func TestSTSMatchesSDK(t *testing.T) {
	fake := &stsServer{}
	s, srv := newSTS(t, fake)
	client := sts.New(sts.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: sourceCreds.AccessKeyID, SecretAccessKey: sourceCreds.SecretAccessKey, SessionToken: sourceCreds.SessionToken}, nil
		})),
		Retryer: aws.NopRetryer{},
	})
	sdk := stscreds.NewAssumeRoleProvider(client, testRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "sess"
		o.ExternalID = aws.String("ext")
	})
	want, err := sdk.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AssumeRole(context.Background(), sourceCreds, testRole, "sess", "ext", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, want)
	if !fake.sigOK[0] || !fake.sigOK[1] {
		t.Errorf("signatures checked: %v", fake.sigOK)
	}
	sameForm(t, fake.forms[1], fake.forms[0])

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("eyJ.web.token"), 0o600); err != nil {
		t.Fatal(err)
	}
	wi := stscreds.NewWebIdentityRoleProvider(client, testRole, stscreds.IdentityTokenFile(tokenFile), func(o *stscreds.WebIdentityRoleOptions) {
		o.RoleSessionName = "pod"
	})
	want, err = wi.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.AssumeRoleWithWebIdentity(context.Background(), testRole, "pod", "eyJ.web.token", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, want)
	sameForm(t, fake.forms[3], fake.forms[2])
}

// canned is a fake server's set answer, if any: the status (0: 200) and
// the body. With neither set, the server gives its own good answer.
type canned struct {
	status int
	answer string
}

// write sends the set answer, if there is one.
func (c canned) write(w http.ResponseWriter) bool {
	if c.status == 0 && c.answer == "" {
		return false
	}
	if c.status != 0 {
		w.WriteHeader(c.status)
	}
	io.WriteString(w, c.answer)
	return true
}

// retrieveBoth gets credentials from the SDK's provider, then from ours.
func retrieveBoth(t *testing.T, ours Provider, sdk aws.CredentialsProvider) (Credentials, aws.Credentials) {
	t.Helper()
	want, err := sdk.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ours.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got, want
}

func sameKeys(t *testing.T, got Credentials, want aws.Credentials) {
	t.Helper()
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || !got.Expires.Equal(want.Expires) {
		t.Fatalf("got %+v\nSDK %+v", got, want)
	}
}

func sameForm(t *testing.T, got, want url.Values) {
	t.Helper()
	if got.Encode() != want.Encode() {
		t.Fatalf("form\n got %s\nSDK %s", got.Encode(), want.Encode())
	}
}
