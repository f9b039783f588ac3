package awsauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// agent is a fake container credentials endpoint.
type agent struct {
	token string // the Authorization it wants; "": none
	canned
	auths []string
}

func (a *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.auths = append(a.auths, r.Header.Get("Authorization"))
	if a.token != "" && r.Header.Get("Authorization") != a.token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		io.WriteString(w, `{"code":"AccessDenied","message":"bad authorization token `+r.Header.Get("Authorization")+`"}`)
		return
	}
	if a.write(w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"AccessKeyId":"ASIACTR","SecretAccessKey":"ctr/secret","Token":"ctr-token","Expiration":"2030-01-02T03:04:05Z","AccountId":"123456789012"}`)
}

func newContainer(t *testing.T, a *agent) *Container {
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &Container{Client: srv.Client(), URL: srv.URL + "/v2/credentials/abc"}
}

func TestContainer(t *testing.T) {
	a := &agent{token: "auth-token"}
	c := newContainer(t, a)
	c.Token = "auth-token"
	got, err := c.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "ASIACTR" || got.SecretAccessKey != "ctr/secret" || got.SessionToken != "ctr-token" ||
		got.Expires.Format("2006-01-02T15:04:05Z") != "2030-01-02T03:04:05Z" || got.Source != "container" {
		t.Fatalf("got %+v", got)
	}
	// The token file wins over Token and is read each time.
	file := filepath.Join(t.TempDir(), "token")
	c.Token = "wrong"
	c.TokenFile = file
	if err := os.WriteFile(file, []byte("auth-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.token = "rotated"
	if err := os.WriteFile(file, []byte("rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No expiration: keys that do not expire.
	c2 := newContainer(t, &agent{canned: canned{answer: `{"AccessKeyId":"A","SecretAccessKey":"S"}`}})
	got, err = c2.Retrieve(context.Background())
	if err != nil || !got.Expires.IsZero() || got.SessionToken != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestContainerErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a     *agent
		token string
		want  string
	}{
		{"refused", &agent{token: "good"}, "bad-token-value", "the endpoint answered AccessDenied: bad authorization token [redacted] (HTTP 403)"},
		{"wrong status", &agent{canned: canned{500, "<html>"}}, "", "the endpoint answered HTTP 500"},
		{"bad JSON", &agent{canned: canned{answer: "{"}}, "", "malformed JSON"},
		{"incomplete", &agent{canned: canned{answer: `{"AccessKeyId":"A"}`}}, "", "without complete credentials"},
		{"bad expiration", &agent{canned: canned{answer: `{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"later"}`}}, "", `expiration "later"`},
		{"oversized", &agent{canned: canned{answer: strings.Repeat("x", maxAnswer+1)}}, "", "larger than 1 MiB"},
		{"line break in token", &agent{}, "a\nb", "line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newContainer(t, tc.a)
			c.Token = tc.token
			_, err := c.Retrieve(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), "container credentials: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") || (tc.token != "" && strings.Contains(err.Error(), tc.token)) {
				t.Fatalf("error %q", err)
			}
		})
	}
	c := &Container{URL: "http://127.0.0.1:1/", TokenFile: filepath.Join(t.TempDir(), "missing")}
	if _, err := c.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "reading the authorization token") {
		t.Fatalf("error %v", err)
	}
}

func TestContainerURL(t *testing.T) {
	env := func(m map[string]string) Env { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		rel, full string
		want      string
		err       string
	}{
		{"", "", "", ""},
		{"/v2/credentials/x", "http://evil.example/", "http://169.254.170.2/v2/credentials/x", ""},
		{"v2", "", "", "does not start with '/'"},
		{"", "http://127.0.0.1:8080/creds", "http://127.0.0.1:8080/creds", ""},
		{"", "http://[::1]/creds", "http://[::1]/creds", ""},
		{"", "http://169.254.170.2/v1", "http://169.254.170.2/v1", ""},
		{"", "http://169.254.170.23/v1/credentials", "http://169.254.170.23/v1/credentials", ""},
		{"", "http://[fd00:ec2::23]/v1/credentials", "http://[fd00:ec2::23]/v1/credentials", ""},
		{"", "http://[::ffff:169.254.170.2]/v1", "http://[::ffff:169.254.170.2]/v1", ""},
		{"", "http://[fd00:ec2::24]/v1", "", "is not loopback nor the ECS or EKS agent"},
		{"", "http://localhost:9/c", "http://localhost:9/c", ""},
		{"", "https://creds.example.com/x", "https://creds.example.com/x", ""},
		{"", "http://10.0.0.1/creds", "", "is not loopback nor the ECS or EKS agent"},
		{"", "http://169.254.169.254/creds", "", "is not loopback nor the ECS or EKS agent"},
		{"", "ftp://127.0.0.1/", "", "not an http:// or https:// URL"},
		{"", "http:///nohost", "", "not an http:// or https:// URL"},
	} {
		got, err := ContainerURL(env(map[string]string{
			"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": tc.rel, "AWS_CONTAINER_CREDENTIALS_FULL_URI": tc.full,
		}))
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q %q: %q %v, want %q %q", tc.rel, tc.full, got, err, tc.want, tc.err)
		}
	}
}

func TestContainerMatchesSDK(t *testing.T) {
	a := &agent{token: "auth-token"}
	c := newContainer(t, a)
	c.Token = "auth-token"
	sdk := endpointcreds.New(c.URL, func(o *endpointcreds.Options) {
		o.AuthorizationToken = "auth-token"
		o.HTTPClient = c.Client
		o.Retryer = aws.NopRetryer{}
	})
	got, want := retrieveBoth(t, c, sdk)
	sameKeys(t, got, want)
	if a.auths[0] != a.auths[1] {
		t.Errorf("Authorization %q, SDK's %q", a.auths[1], a.auths[0])
	}
}
