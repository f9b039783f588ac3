package remote

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The S3 path goes through awsauth's configuration and signer against
// gofakes3, an S3-compatible server in process on loopback, with static
// test credentials in the environment and every other AWS setting cleared
// (no config files, no instance metadata: nothing leaves the machine).
// gofakes3 does not check signatures: checkSigV4 stands in front of it
// and recomputes every request's signature with the AWS SDK's own signer.

// s3Env sets a clean AWS environment for the test.
func s3Env(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
		"AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if v, ok := os.LookupEnv(k); ok {
			os.Unsetenv(k)
			t.Cleanup(func() { os.Setenv(k, v) })
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_REGION", "us-east-1")
}

// fakeS3 starts gofakes3 with a bucket "dumps"; wrap, when not nil,
// stands in front of it.
func fakeS3(t *testing.T, wrap func(http.Handler) http.Handler) (*s3mem.Backend, string) {
	t.Helper()
	s3Env(t)
	be := s3mem.New()
	if err := be.CreateBucket("dumps"); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = checkSigV4(t, gofakes3.New(be, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return be, srv.URL
}

// checkSigV4 fails the test on any request whose Signature Version 4
// the AWS SDK's signer, set as its S3 client sets it (the path signed as
// sent, not escaped again), given the same signed headers, time and the
// environment's keys, does not compute alike.
func checkSigV4(t *testing.T, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		_, signed, _ := strings.Cut(auth, "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		_, scope, _ := strings.Cut(auth, "Credential=")
		scope, _, _ = strings.Cut(scope, ",")
		parts := strings.Split(scope, "/") // KEY/DATE/REGION/SERVICE/aws4_request
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil || len(parts) != 5 || signed == "" {
			t.Errorf("%s %s: no Signature Version 4 (Authorization %q)", r.Method, r.URL, auth)
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		for _, name := range strings.Split(signed, ";") {
			if name != "host" {
				again.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
			}
		}
		again.Header.Del("Authorization")
		creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(r.Context(), creds, again, r.Header.Get("X-Amz-Content-Sha256"), parts[3], parts[2], when); err != nil {
			t.Error(err)
		}
		if want := again.Header.Get("Authorization"); want != auth {
			t.Errorf("%s %s: signature\n%s\nthe SDK's\n%s", r.Method, r.URL, auth, want)
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func putS3(t *testing.T, be *s3mem.Backend, key string, data []byte) {
	t.Helper()
	if _, err := be.PutObject("dumps", key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

func TestS3(t *testing.T) {
	be, endpoint := fakeS3(t, nil)
	const bs = 16 << 10
	for _, size := range []int{0, 5, bs, 20*bs + 3} {
		data := randomBytes(size, uint64(size)+100)
		key := "crash/host-1/vmcore-" + strings.Repeat("x", size%7)
		putS3(t, be, key, data)
		opt := testOptions()
		opt.S3Endpoint = endpoint
		o := mustOpen(t, "s3://dumps/"+key, opt)
		if o.Size() != int64(size) || o.Name() != "s3://dumps/"+key {
			t.Fatalf("size %d: Size %d, Name %q", size, o.Size(), o.Name())
		}
		if err := checkRead(t, o, data, 0, size); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		for off := 0; off < size; off += 5000 {
			checkRead(t, o, data, int64(off), 5000)
		}
		if s := o.Stats(); size > 0 && (s.Validator != "etag" || s.BytesFetched != int64(size)) {
			t.Fatalf("size %d: %v", size, s)
		}
	}
}

// TestS3EndpointFromEnvironment: AWS_ENDPOINT_URL_S3 alone selects the
// store, with path-style addressing.
func TestS3EndpointFromEnvironment(t *testing.T) {
	be, endpoint := fakeS3(t, nil)
	data := randomBytes(100000, 12)
	putS3(t, be, "vmcore", data)
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	o := mustOpen(t, "s3://dumps/vmcore", testOptions())
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
}

func TestS3Errors(t *testing.T) {
	be, endpoint := fakeS3(t, nil)
	opt := testOptions()
	opt.S3Endpoint = endpoint
	for _, url := range []string{"s3://dumps/missing", "s3://nobucket/vmcore"} {
		_, err := Open(context.Background(), url, opt)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: %v", url, err)
		}
		t.Log(err)
	}
	for _, url := range []string{"s3://dumps", "s3:///key", "s3://dumps/"} {
		if _, err := Open(context.Background(), url, opt); err == nil {
			t.Fatalf("%s opened", url)
		}
	}

	// Replaced while open: gofakes3 does not honour If-Match on GET, so
	// the ETag of the answer tells.
	const bs = 16 << 10
	data := randomBytes(8*bs, 13)
	putS3(t, be, "vmcore", data)
	o := mustOpen(t, "s3://dumps/vmcore", opt)
	checkRead(t, o, data, bs, 100)
	putS3(t, be, "vmcore", randomBytes(8*bs, 14))
	if err := checkRead(t, o, data, 3*bs, 100); !errors.Is(err, ErrChanged) {
		t.Fatalf("replaced object: %v", err)
	}
}

// TestS3RetryAndRegion: a 503 from the store is retried, and a bucket in
// another region is found from S3's answer.
func TestS3RetryAndRegion(t *testing.T) {
	var requests, failed atomic.Int64
	be, endpoint := fakeS3(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := requests.Add(1)
			if !strings.Contains(r.Header.Get("Authorization"), "/eu-north-1/s3/aws4_request") {
				w.Header().Set("X-Amz-Bucket-Region", "eu-north-1")
				http.Error(w, "<Error><Code>PermanentRedirect</Code></Error>", http.StatusMovedPermanently)
				return
			}
			if r.Header.Get("If-Match") == "" && n > 2 {
				t.Errorf("request %d without If-Match", n)
			}
			if n == 3 {
				failed.Add(1)
				http.Error(w, "<Error><Code>SlowDown</Code></Error>", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	data := randomBytes(100000, 15)
	putS3(t, be, "vmcore", data)
	opt := testOptions()
	opt.S3Endpoint = endpoint
	o := mustOpen(t, "s3://dumps/vmcore", opt)
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
	if s := o.Stats(); failed.Load() != 1 || s.Retries != 1 || s.Requests != 4 {
		t.Fatalf("%v (server saw %d requests)", s, requests.Load())
	}
}

func TestS3ErrorDetail(t *testing.T) {
	for doc, want := range map[string]string{
		`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key></Error>`: "NoSuchKey: The specified key does not exist.",
		`<Error><Code>SlowDown</Code></Error>`:                     "SlowDown",
		`<Error><Code>A&lt;B</Code><Message> x </Message></Error>`: "A<B:  x ",
		`NoSuchKey`: "",
		`<Error><Message>no code</Message></Error>`: "",
		``: "",
	} {
		if got := s3ErrorDetail([]byte(doc)); got != want {
			t.Errorf("%s: %q, want %q", doc, got, want)
		}
	}
}

func TestS3ObjectURL(t *testing.T) {
	for _, c := range []struct{ endpoint, bucket, key, region, want string }{
		{"", "dumps", "host-1/vmcore", "eu-west-1", "https://dumps.s3.eu-west-1.amazonaws.com/host-1/vmcore"},
		{"", "dumps", "a b/c+d%e?f#g~h", "us-east-1", "https://dumps.s3.us-east-1.amazonaws.com/a%20b/c%2Bd%25e%3Ff%23g~h"},
		{"", "crash.dumps", "k", "us-east-1", "https://s3.us-east-1.amazonaws.com/crash.dumps/k"},
		{"", "Dumps", "k", "us-east-1", "https://s3.us-east-1.amazonaws.com/Dumps/k"},
		{"", "dumps", "k", "cn-north-1", "https://dumps.s3.cn-north-1.amazonaws.com.cn/k"},
		{"http://127.0.0.1:9000", "dumps", "k//v", "us-east-1", "http://127.0.0.1:9000/dumps/k//v"},
		{"https://minio.example/base", "dumps", "k", "eu-west-1", "https://minio.example/base/dumps/k"},
	} {
		g := &s3Getter{endpoint: c.endpoint, bucket: c.bucket, key: c.key}
		if got := g.objectURL(c.region); got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
	}
}

// TestS3OddKey: a key with characters that URLs and signatures escape
// differently (space, +, %, ?, #, ~, //, UTF-8) is read, signed as the
// SDK signs it.
func TestS3OddKey(t *testing.T) {
	be, endpoint := fakeS3(t, nil)
	data := randomBytes(50000, 16)
	const key = "crash/a b+c%d?e#f~g//ü=$&'()*,;:@!"
	putS3(t, be, key, data)
	opt := testOptions()
	opt.S3Endpoint = endpoint
	o := mustOpen(t, "s3://dumps/"+key, opt)
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
}

// TestS3NoCredentials: with no credentials anywhere, opening fails at
// once with what was looked at, and no request reaches the store.
func TestS3NoCredentials(t *testing.T) {
	var requests atomic.Int64
	_, endpoint := fakeS3(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			h.ServeHTTP(w, r)
		})
	})
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	opt := testOptions()
	opt.S3Endpoint = endpoint
	start := time.Now()
	_, err := Open(context.Background(), "s3://dumps/vmcore", opt)
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") || requests.Load() != 0 {
		t.Fatalf("%v (%d requests)", err, requests.Load())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v: retried?", d)
	}
	t.Log(err)
}

// TestS3VirtualHosted: with no endpoint override, the object is asked
// for at https://BUCKET.s3.REGION.amazonaws.com/KEY, as on AWS. The
// transport sends every connection to a TLS gofakes3 on loopback that
// routes by host name; a request signed for the wrong region gets S3's
// AuthorizationHeaderMalformed with the bucket's region, and the reads go
// on there.
func TestS3VirtualHosted(t *testing.T) {
	s3Env(t)
	be := s3mem.New()
	if err := be.CreateBucket("dumps"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(70000, 17)
	putS3(t, be, "host-1/vmcore", data)
	var hosts sync.Map
	fake := gofakes3.New(be, gofakes3.WithHostBucketBase("s3.eu-west-1.amazonaws.com"), gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	srv := httptest.NewTLSServer(checkSigV4(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host, true)
		if r.Host != "dumps.s3.eu-west-1.amazonaws.com" {
			w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
			http.Error(w, "<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>", http.StatusBadRequest)
			return
		}
		fake.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	tr.TLSClientConfig.InsecureSkipVerify = true // the test server's certificate names 127.0.0.1
	opt := testOptions()
	opt.Transport = tr
	o := mustOpen(t, "s3://dumps/host-1/vmcore", opt)
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"dumps.s3.us-east-1.amazonaws.com", "dumps.s3.eu-west-1.amazonaws.com"} {
		if _, ok := hosts.Load(h); !ok {
			t.Errorf("no request to %s", h)
		}
	}
}

// TestS3EndpointNotEchoed: an endpoint that is refused is named without
// its user information, which may hold a password, whatever its scheme.
func TestS3EndpointNotEchoed(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	for _, ep := range []string{"ftp://user:EPSECRET@127.0.0.1:1", "user:EPSECRET@127.0.0.1", "file://user:EPSECRET@/x"} {
		_, err := newS3Getter(context.Background(), "b", "k", ep, nil, 1, new(atomic.Int64))
		if err == nil || strings.Contains(err.Error(), "EPSECRET") {
			t.Errorf("%s: %v", ep, err)
		}
	}
}
