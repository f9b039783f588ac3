package awsauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

const imdsToken = "imds-session-token"

// metadata is a fake instance metadata service (IMDSv2 only).
type metadata struct {
	role      string        // "" : no role
	doc       string        // the role document; "": valid keys
	tokenWait time.Duration // delay before answering the token PUT
	mu        sync.Mutex
	paths     []string
}

func (m *metadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.paths = append(m.paths, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		if m.tokenWait > 0 {
			select {
			case <-time.After(m.tokenWait):
			case <-r.Context().Done():
				return
			}
		}
		if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
		io.WriteString(w, imdsToken)
		return
	}
	if r.Header.Get("X-Aws-Ec2-Metadata-Token") != imdsToken {
		w.WriteHeader(401)
		return
	}
	switch {
	case r.URL.Path == imdsRolesPath && m.role != "":
		io.WriteString(w, m.role+"\n")
	case m.role != "" && r.URL.Path == imdsRolesPath+m.role:
		if m.doc != "" {
			io.WriteString(w, m.doc)
			return
		}
		io.WriteString(w, `{"Code":"Success","LastUpdated":"2026-12-03T10:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAEC2","SecretAccessKey":"ec2/secret","Token":"ec2-token","Expiration":"`+
			time.Now().Add(30*time.Minute).UTC().Format(time.RFC3339)+`"}`)
	default:
		w.WriteHeader(404)
	}
}

func newIMDS(t *testing.T, m *metadata) (*IMDS, *httptest.Server) {
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &IMDS{Client: srv.Client(), Endpoint: srv.URL}, srv
}

func TestIMDS(t *testing.T) {
	m := &metadata{role: "dump-reader"}
	p, _ := newIMDS(t, m)
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAEC2" || c.SecretAccessKey != "ec2/secret" || c.SessionToken != "ec2-token" ||
		c.Source != "instance role dump-reader" || time.Until(c.Expires) < 29*time.Minute {
		t.Fatalf("got %+v", c)
	}
	want := "PUT /latest/api/token,GET " + imdsRolesPath + ",GET " + imdsRolesPath + "dump-reader"
	if got := strings.Join(m.paths, ","); got != want {
		t.Errorf("requests %s", got)
	}
}

func TestIMDSErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *metadata
		want string
	}{
		{"no role", &metadata{}, "no role attached to the instance (HTTP 404)"},
		{"bad role name", &metadata{role: "../../user-data"}, "is not an IAM role name"},
		{"failed code", &metadata{role: "r", doc: `{"Code":"AssumeRoleUnauthorizedAccess","Message":"cannot assume\nrole"}`}, "role r: AssumeRoleUnauthorizedAccess: cannot assume role"},
		{"bad JSON", &metadata{role: "r", doc: `{"Code":`}, "role r: malformed JSON"},
		{"incomplete", &metadata{role: "r", doc: `{"Code":"Success","AccessKeyId":"A"}`}, "role r: incomplete credentials"},
		{"bad expiration", &metadata{role: "r", doc: `{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"x"}`}, `expiration "x"`},
		{"oversized", &metadata{role: "r", doc: strings.Repeat("{", maxAnswer+1)}, "larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newIMDS(t, tc.m)
			_, err := p.Retrieve(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), "no instance role (instance metadata: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") || strings.Contains(err.Error(), imdsToken) {
				t.Fatalf("error %q", err)
			}
		})
	}
	// A token endpoint that refuses.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }))
	defer srv.Close()
	if _, err := (&IMDS{Client: srv.Client(), Endpoint: srv.URL}).Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "session token: HTTP 403") {
		t.Fatalf("error %v", err)
	}
}

// Off EC2 the token request gets no answer: Retrieve gives up after
// about a second, not the client's timeout.
func TestIMDSFailsFast(t *testing.T) {
	p, _ := newIMDS(t, &metadata{role: "r", tokenWait: 10 * time.Second})
	start := time.Now()
	_, err := p.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "session token") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestIMDSMatchesSDK(t *testing.T) {
	m := &metadata{role: "dump-reader"}
	p, srv := newIMDS(t, m)
	sdk := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = imds.New(imds.Options{Endpoint: srv.URL, HTTPClient: srv.Client(), Retryer: aws.NopRetryer{}})
	})
	got, want := retrieveBoth(t, p, sdk)
	// The SDK caps the expiry at an hour from now; the fake's is 30
	// minutes off, below the cap, but a second may tick between answers.
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey || got.SessionToken != want.SessionToken ||
		got.Expires.Sub(want.Expires).Abs() > 2*time.Second {
		t.Fatalf("got %+v\nSDK %+v", got, want)
	}
}
