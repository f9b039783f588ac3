package awsauth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// FuzzCredentialAnswers serves arbitrary bytes, with a fuzzed status, as
// the answer of STS (both calls), the SSO portal, the instance metadata
// service and a container endpoint: no panic, and either an error of one
// line that does not quote the token each of them sends (a session token,
// a web identity or bearer token, the metadata service's token), or
// credentials with both keys.
func FuzzCredentialAnswers(f *testing.F) {
	for _, seed := range []string{
		`<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
		`<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
		`<ErrorResponse><Error><Code>AccessDenied</Code><Message>not for fuzz-secret</Message></Error></ErrorResponse>`,
		`{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"S","sessionToken":"T","expiration":1893456000000}}`,
		`{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-01T00:00:00Z"}`,
		`{"Code":"Failure","Message":"fuzz-token"}`,
	} {
		f.Add([]byte(seed), uint16(200))
		f.Add([]byte(seed), uint16(403))
	}
	var answer atomic.Pointer[[]byte]
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut { // the IMDSv2 token
			w.Write([]byte("fuzz-token"))
			return
		}
		if r.URL.Path == "/latest/meta-data/iam/security-credentials/" {
			w.Write([]byte("role"))
			return
		}
		w.WriteHeader(int(status.Load()))
		w.Write(*answer.Load())
	}))
	defer srv.Close()
	dir := f.TempDir()
	sum := sha1.Sum([]byte("fuzz"))
	expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), []byte(`{"accessToken":"fuzz-token","expiresAt":"`+expires+`"}`), 0o600); err != nil {
		f.Fatal(err)
	}
	src := Credentials{AccessKeyID: "AKID", SecretAccessKey: "fuzz-secret", SessionToken: "fuzz-token"}
	sts := &STS{Client: srv.Client(), Endpoint: srv.URL, Region: "us-east-1"}
	providers := map[string]func(ctx context.Context) (Credentials, error){
		"AssumeRole": func(ctx context.Context) (Credentials, error) {
			return sts.AssumeRole(ctx, src, "arn:aws:iam::1:role/r", "s", "", 0)
		},
		"AssumeRoleWithWebIdentity": func(ctx context.Context) (Credentials, error) {
			return sts.AssumeRoleWithWebIdentity(ctx, "arn:aws:iam::1:role/r", "s", "fuzz-token", 0)
		},
		"SSO": (&SSO{Client: srv.Client(), CacheDir: dir, SessionName: "fuzz", StartURL: "https://start.example/start",
			Region: "us-east-1", AccountID: "1", RoleName: "r", PortalEndpoint: srv.URL}).Retrieve,
		"IMDS":      (&IMDS{Client: srv.Client(), Endpoint: srv.URL}).Retrieve,
		"container": (&Container{Client: srv.Client(), URL: srv.URL + "/creds", Token: "fuzz-token"}).Retrieve,
	}
	f.Fuzz(func(t *testing.T, body []byte, st uint16) {
		answer.Store(&body)
		status.Store(int32(200 + st%400))
		for name, retrieve := range providers {
			c, err := retrieve(context.Background())
			if err != nil {
				if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "fuzz-token") {
					t.Fatalf("%s: error %q", name, msg)
				}
				continue
			}
			if c.AccessKeyID == "" || c.SecretAccessKey == "" {
				t.Fatalf("%s: incomplete credentials without an error: %+v", name, c)
			}
		}
	})
}
