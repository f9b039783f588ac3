package awsauth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
)

const ssoAccessToken = "sso-access-token-value"

// portal is a fake IAM Identity Center portal.
type portal struct {
	canned
	mu   sync.Mutex
	seen []*http.Request
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r)
	p.mu.Unlock()
	if r.URL.Path != "/federation/credentials" || r.Header.Get("X-Amz-Sso_bearer_token") != ssoAccessToken {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"__type":"com.amazonaws.switchboard.portal#UnauthorizedException","message":"Session token not found or invalid"}`)
		return
	}
	if p.write(w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"sso/secret","sessionToken":"sso-session","expiration":1893553445000}}`)
}

// writeToken writes a token file of the AWS CLI's cache for key.
func writeToken(t *testing.T, dir, key, token, expiresAt string) string {
	t.Helper()
	sum := sha1.Sum([]byte(key))
	name := filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
	doc := fmt.Sprintf(`{"startUrl":"https://d-123.awsapps.com/start","region":"eu-west-1","accessToken":%q,"expiresAt":%q,"clientId":"c","refreshToken":"r"}`, token, expiresAt)
	if err := os.WriteFile(name, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func newSSO(t *testing.T, p *portal) (*SSO, *httptest.Server) {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return &SSO{
		Client: srv.Client(), CacheDir: t.TempDir(), StartURL: "https://d-123.awsapps.com/start",
		Region: "eu-west-1", AccountID: "123456789012", RoleName: "Reader", PortalEndpoint: srv.URL, Profile: "dev",
	}, srv
}

func TestSSO(t *testing.T) {
	p := &portal{}
	s, _ := newSSO(t, p)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	writeToken(t, s.CacheDir, s.StartURL, ssoAccessToken, future)
	c, err := s.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{AccessKeyID: "ASIASSO", SecretAccessKey: "sso/secret", SessionToken: "sso-session",
		Expires: time.UnixMilli(1893553445000).UTC(), Source: "sso profile dev (account 123456789012, role Reader)"}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	q := p.seen[0].URL.Query()
	if q.Get("account_id") != "123456789012" || q.Get("role_name") != "Reader" || p.seen[0].Method != "GET" {
		t.Errorf("request %s %s", p.seen[0].Method, p.seen[0].URL)
	}

	// An sso-session profile names its token file after the session.
	s.SessionName = "corp"
	if _, err := s.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "aws sso login --sso-session corp") {
		t.Fatalf("error %v", err)
	}
	writeToken(t, s.CacheDir, "corp", ssoAccessToken, strings.Replace(future, "Z", "+00:00", 1))
	if _, err := s.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The "UTC" suffix of early AWS CLI v2 caches.
	writeToken(t, s.CacheDir, "corp", ssoAccessToken, strings.Replace(future, "Z", "UTC", 1))
	if _, err := s.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSSOErrors(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name           string
		token, expires string // "" token: no file
		raw            string // a file's whole text instead
		status         int
		answer         string
		want           string
	}{
		{name: "no token file", want: "run `aws sso login --profile dev`"},
		{name: "expired", token: ssoAccessToken, expires: past, want: "the SSO token expired at"},
		{name: "bad expiresAt", token: ssoAccessToken, expires: "soon", want: `expiresAt "soon"`},
		{name: "no expiresAt", raw: `{"accessToken":"x"}`, want: "lacks accessToken or expiresAt"},
		{name: "not JSON", raw: `{`, want: "not valid JSON"},
		{name: "oversized file", raw: strings.Repeat(" ", maxAnswer+1), want: "larger than 1 MiB"},
		{name: "token refused", token: "stale-token", expires: future,
			want: "UnauthorizedException: Session token not found or invalid (HTTP 401); run `aws sso login --profile dev`"},
		{name: "throttled", token: ssoAccessToken, expires: future, status: 429,
			answer: `{"__type":"TooManyRequestsException","message":"slow down ` + ssoAccessToken + `"}`,
			want:   "TooManyRequestsException: slow down [redacted] (HTTP 429)"},
		{name: "wrong status", token: ssoAccessToken, expires: future, status: 500, answer: "oops", want: "SSO portal answered HTTP 500"},
		{name: "bad JSON", token: ssoAccessToken, expires: future, answer: `{"roleCredentials":`, want: "malformed JSON"},
		{name: "no credentials", token: ssoAccessToken, expires: future, answer: `{"roleCredentials":{"accessKeyId":"A"}}`, want: "without complete credentials"},
		{name: "no expiration", token: ssoAccessToken, expires: future, answer: `{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"S","sessionToken":"T"}}`, want: "without complete credentials"},
		{name: "oversized answer", token: ssoAccessToken, expires: future, answer: strings.Repeat("x", maxAnswer+1), want: "larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSSO(t, &portal{canned: canned{tc.status, tc.answer}})
			if tc.token != "" {
				writeToken(t, s.CacheDir, s.StartURL, tc.token, tc.expires)
			}
			if tc.raw != "" {
				sum := sha1.Sum([]byte(s.StartURL))
				if err := os.WriteFile(filepath.Join(s.CacheDir, hex.EncodeToString(sum[:])+".json"), []byte(tc.raw), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Retrieve(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "sso profile dev (account 123456789012, role Reader): ") {
				t.Fatalf("error %q, want %q", msg, tc.want)
			}
			if strings.Contains(msg, ssoAccessToken) || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q has the token or a line break", msg)
			}
		})
	}
	s := &SSO{StartURL: "u", AccountID: "1", RoleName: "r", Region: "bad/region", CacheDir: t.TempDir()}
	writeToken(t, s.CacheDir, "u", "tok", future)
	if _, err := s.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), `sso_region "bad/region" is not a valid region name`) {
		t.Fatalf("error %v", err)
	}
	if _, err := (&SSO{StartURL: "u"}).Retrieve(context.Background()); err == nil {
		t.Fatal("no account nor role")
	}
}

func TestSSOPortalEndpoint(t *testing.T) {
	// The default portal host, seen through a transport that answers
	// without a network.
	var host string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		host = r.URL.Scheme + "://" + r.URL.Host
		return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
	})
	for region, want := range map[string]string{"eu-west-1": "https://portal.sso.eu-west-1.amazonaws.com", "cn-north-1": "https://portal.sso.cn-north-1.amazonaws.com.cn"} {
		s := &SSO{Client: &http.Client{Transport: rt}, CacheDir: t.TempDir(), StartURL: "u", Region: region, AccountID: "1", RoleName: "r"}
		writeToken(t, s.CacheDir, "u", "tok", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		s.Retrieve(context.Background())
		if host != want {
			t.Errorf("region %s: portal %q, want %q", region, host, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The SDK's SSO provider, on the same cache file and fake portal, sends
// the same request and reads the same keys.
func TestSSOMatchesSDK(t *testing.T) {
	p := &portal{}
	s, srv := newSSO(t, p)
	name := writeToken(t, s.CacheDir, s.StartURL, ssoAccessToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	client := sso.New(sso.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(), Retryer: aws.NopRetryer{}})
	sdk := ssocreds.New(client, s.AccountID, s.RoleName, s.StartURL, func(o *ssocreds.Options) { o.CachedTokenFilepath = name })
	got, want := retrieveBoth(t, s, sdk)
	sameKeys(t, got, want)
	if p.seen[0].URL.String() != p.seen[1].URL.String() {
		t.Errorf("request %s, SDK's %s", p.seen[1].URL, p.seen[0].URL)
	}
	// The SDK's file name for the start URL is ours.
	sdkName, err := ssocreds.StandardCachedTokenFilepath(s.StartURL)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(sdkName) != filepath.Base(name) {
		t.Errorf("cache file %s, SDK's %s", filepath.Base(name), filepath.Base(sdkName))
	}
}
