package awsauth

import (
	"context"
	"encoding/hex"
	"math/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The examples of the S3 documentation, "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" (AWS
// Signature Version 4), with the signatures printed there.
var (
	docCreds = Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	docTime  = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
)

const docHost = "examplebucket.s3.amazonaws.com"

// s3Request builds a request of bucket-host style for key (not escaped)
// and an already encoded query string.
func s3Request(method, host, key, rawQuery string) *http.Request {
	p := "/" + key
	u := &url.URL{Scheme: "https", Host: host, Path: p, RawPath: EscapePath(p), RawQuery: rawQuery}
	return &http.Request{Method: method, URL: u, Header: http.Header{}, Host: u.Host}
}

func authParts(t *testing.T, req *http.Request) (credential, signedHeaders, signature string) {
	t.Helper()
	a := req.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(a, "AWS4-HMAC-SHA256 Credential=")
	if !ok {
		t.Fatalf("Authorization %q", a)
	}
	credential, rest, _ = strings.Cut(rest, ", SignedHeaders=")
	signedHeaders, signature, _ = strings.Cut(rest, ", Signature=")
	return credential, signedHeaders, signature
}

func TestSignDocumentExamples(t *testing.T) {
	welcome := PayloadHash([]byte("Welcome to Amazon S3."))
	if welcome != "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" {
		t.Fatalf("PayloadHash(Welcome to Amazon S3.) = %s", welcome)
	}
	if PayloadHash(nil) != EmptyPayloadHash {
		t.Fatalf("PayloadHash(nil) = %s", PayloadHash(nil))
	}
	for _, tc := range []struct {
		name, method, key, query string
		headers                  map[string]string
		payload                  string
		signed, signature        string
	}{
		{
			name: "GET Object", method: "GET", key: "test.txt",
			headers: map[string]string{"Range": "bytes=0-9"}, payload: EmptyPayloadHash,
			signed:    "host;range;x-amz-content-sha256;x-amz-date",
			signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name: "PUT Object", method: "PUT", key: "test$file.text",
			headers: map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"},
			payload: welcome,
			signed:  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			// The document's canonical URI is /test%24file.text.
			signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name: "GET Bucket lifecycle", method: "GET", key: "", query: "lifecycle",
			payload:   EmptyPayloadHash,
			signed:    "host;x-amz-content-sha256;x-amz-date",
			signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			// Out of order on purpose: the signer sorts.
			name: "GET Bucket (List Objects)", method: "GET", key: "", query: "prefix=J&max-keys=2",
			payload:   EmptyPayloadHash,
			signed:    "host;x-amz-content-sha256;x-amz-date",
			signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := s3Request(tc.method, docHost, tc.key, tc.query)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			req.Header.Set("User-Agent", "not signed")
			Sign(req, docCreds, "us-east-1", "s3", tc.payload, docTime)
			cred, signed, sig := authParts(t, req)
			if cred != "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request" {
				t.Errorf("credential %q", cred)
			}
			if signed != tc.signed {
				t.Errorf("signed headers %q, want %q", signed, tc.signed)
			}
			if sig != tc.signature {
				t.Errorf("signature %s, want %s", sig, tc.signature)
			}
			if got := req.Header.Get("X-Amz-Date"); got != "20130524T000000Z" {
				t.Errorf("X-Amz-Date %q", got)
			}
			if got := req.Header.Get("X-Amz-Content-Sha256"); got != tc.payload {
				t.Errorf("X-Amz-Content-Sha256 %q", got)
			}
			if req.Header.Get("X-Amz-Security-Token") != "" {
				t.Error("a security token without a session token")
			}
		})
	}
}

// The signing key derivation example of the IAM User Guide ("Examples of
// how to derive a signing key for Signature Version 4").
func TestSigningKeyDocumentExample(t *testing.T) {
	k := signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	if got := hex.EncodeToString(k); got != "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d" {
		t.Fatalf("signing key %s", got)
	}
	// A second call comes from the cache and is the same key.
	k2 := signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	if hex.EncodeToString(k2) != hex.EncodeToString(k) {
		t.Fatal("cached key differs")
	}
	// Other secrets of the same day, region and service get their own key.
	if hex.EncodeToString(signingKey("other", "20120215", "us-east-1", "iam")) == hex.EncodeToString(k) {
		t.Fatal("the cache mixed up two secrets")
	}
	for i := 0; i < 3*maxSigningKeys; i++ {
		signingKey(strings.Repeat("s", i), "20120215", "us-east-1", "iam")
	}
	signingKeys.Lock()
	n := len(signingKeys.m)
	signingKeys.Unlock()
	if n > maxSigningKeys {
		t.Fatalf("%d cached keys, at most %d wanted", n, maxSigningKeys)
	}
}

func TestEscapePath(t *testing.T) {
	for in, want := range map[string]string{
		"/test$file.text":      "/test%24file.text",
		"/a b/c+d%e?f#g//h~._": "/a%20b/c%2Bd%25e%3Ff%23g//h~._",
		"/été":                 "/%C3%A9t%C3%A9",
		"/AZaz09-._~":          "/AZaz09-._~",
		"/\x00\xff":            "/%00%FF",
	} {
		if got := EscapePath(in); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escape("a/b c", false); got != "a%2Fb%20c" {
		t.Errorf("query escape %q", got)
	}
}

func TestSignDropsDefaultPortAndStaleToken(t *testing.T) {
	req := s3Request("GET", "bucket.s3.amazonaws.com:443", "k", "")
	req.Header.Set("X-Amz-Security-Token", "stale")
	Sign(req, docCreds, "us-east-1", "s3", EmptyPayloadHash, docTime)
	if req.Host != "bucket.s3.amazonaws.com" {
		t.Errorf("Host %q", req.Host)
	}
	if req.Header.Get("X-Amz-Security-Token") != "" {
		t.Error("a stale security token was kept")
	}
	req = s3Request("GET", "localhost:9000", "k", "")
	req.URL.Scheme = "http"
	c := docCreds
	c.SessionToken = "tok"
	Sign(req, c, "us-east-1", "s3", EmptyPayloadHash, docTime)
	if req.Host != "localhost:9000" {
		t.Errorf("Host %q", req.Host)
	}
	_, signed, _ := authParts(t, req)
	if signed != "host;x-amz-content-sha256;x-amz-date;x-amz-security-token" {
		t.Errorf("signed headers %q", signed)
	}
	if req.Header.Get("X-Amz-Security-Token") != "tok" {
		t.Error("no security token")
	}
	// Not S3: no content hash header.
	req, _ = http.NewRequest("POST", "https://sts.us-east-1.amazonaws.com/", strings.NewReader("Action=x"))
	Sign(req, docCreds, "us-east-1", "sts", PayloadHash([]byte("Action=x")), docTime)
	if req.Header.Get("X-Amz-Content-Sha256") != "" {
		t.Error("X-Amz-Content-Sha256 outside S3")
	}
	if _, signed, _ := authParts(t, req); signed != "content-length;host;x-amz-date" {
		t.Errorf("signed headers %q", signed)
	}
}

// sdkSign signs a copy of req with the AWS SDK's signer the way the S3
// client does (the path escaped once, by the caller; X-Amz-Content-Sha256
// set by the S3 middleware before signing).
func sdkSign(t testing.TB, req *http.Request, c Credentials, region, service, payload string, now time.Time) *http.Request {
	t.Helper()
	r := req.Clone(context.Background())
	if service == "s3" {
		r.Header.Set("X-Amz-Content-Sha256", payload)
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err := s.SignHTTP(context.Background(), aws.Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
	}, r, payload, service, region, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// compareWithSDK signs req both ways and fails on any difference in what
// goes on the wire.
func compareWithSDK(t testing.TB, req *http.Request, c Credentials, region, service, payload string, now time.Time) {
	t.Helper()
	want := sdkSign(t, req, c, region, service, payload, now)
	got := req.Clone(context.Background())
	Sign(got, c, region, service, payload, now)
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		if g, w := got.Header.Get(h), want.Header.Get(h); g != w {
			t.Fatalf("%s %q %s\n%s:\n got %q\nwant %q", req.Method, req.URL.EscapedPath(), req.URL.RawQuery, h, g, w)
		}
	}
	if got.URL.RawQuery != want.URL.RawQuery || got.Host != want.Host {
		t.Fatalf("query %q host %q, SDK %q %q", got.URL.RawQuery, got.Host, want.URL.RawQuery, want.Host)
	}
}

// keyAlphabet is what random keys are made of: the characters that
// escaping and signing get wrong most easily.
var keyAlphabet = []string{"a", "Z", "0", "-", "_", ".", "~", "/", "//", " ", "  ", "+", "%", "%2F", "?", "#", "&", "=", ";", ":", "@", "!", "$", "'", "(", "*", ",", "é", "日本", "\U0001F600", "\\", "\"", "<", "\x7f", "\t"}

func randomString(r *rand.Rand, alphabet []string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[r.Intn(len(alphabet))])
	}
	return b.String()
}

var regions = []string{"us-east-1", "eu-west-3", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "auto"}

func TestSignMatchesSDK(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		key := randomString(r, keyAlphabet, 1+r.Intn(12))
		host := "bucket.s3.amazonaws.com"
		if r.Intn(3) == 0 {
			host = "127.0.0.1:9000"
			key = "bucket/" + key
		}
		q := url.Values{}
		for j := r.Intn(3); j > 0; j-- {
			q.Add(randomString(r, keyAlphabet, 1+r.Intn(4)), randomString(r, keyAlphabet, r.Intn(4)))
		}
		req := s3Request([]string{"GET", "HEAD"}[r.Intn(2)], host, key, q.Encode())
		if r.Intn(2) == 0 {
			a := r.Int63n(1 << 40)
			req.Header.Set("Range", "bytes="+strconv.FormatInt(a, 10)+"-"+strconv.FormatInt(a+r.Int63n(1<<20), 10))
		}
		if r.Intn(4) == 0 {
			pad := []string{"", " ", "  ", "\t", " \t "}
			req.Header.Set("If-Match", pad[r.Intn(len(pad))]+"\"  "+randomString(r, keyAlphabet[:8], 8)+"  x \""+pad[r.Intn(len(pad))])
		}
		req.Header.Set("User-Agent", "dumpscope")
		c := Credentials{
			AccessKeyID:     "AKIA" + randomString(r, keyAlphabet[:3], 8),
			SecretAccessKey: randomString(r, keyAlphabet, 20),
		}
		if r.Intn(2) == 0 {
			c.SessionToken = randomString(r, []string{"A", "b", "/", "+", "="}, 40)
		}
		now := time.Unix(r.Int63n(4e9), 0)
		compareWithSDK(t, req, c, regions[r.Intn(len(regions))], "s3", EmptyPayloadHash, now)
	}
	// A path given as URL.Opaque, and one left for Go to escape.
	req := s3Request("GET", "bucket.s3.amazonaws.com", "x", "")
	req.URL.Opaque = "//bucket.s3.amazonaws.com/a%20b/c%2Bd"
	compareWithSDK(t, req, docCreds, "us-east-1", "s3", EmptyPayloadHash, docTime)
	req, _ = http.NewRequest("GET", "https://bucket.s3.amazonaws.com/plain/key?versionId=3", nil)
	compareWithSDK(t, req, docCreds, "us-east-1", "s3", EmptyPayloadHash, docTime)
	// An STS form POST.
	body := "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&Version=2011-06-15"
	req, _ = http.NewRequest("POST", "https://sts.eu-west-1.amazonaws.com/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	compareWithSDK(t, req, docCreds, "eu-west-1", "sts", PayloadHash([]byte(body)), docTime)
}

func FuzzSign(f *testing.F) {
	f.Add("test.txt", "", "bytes=0-9", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "us-east-1", int64(1369353600))
	f.Add("a b/+%?#//é", "x=1&y", "bytes=5-", "AK", "s", "token+/=", "cn-north-1", int64(0))
	f.Fuzz(func(t *testing.T, key, rawQuery, rng, akid, secret, token, region string, unix int64) {
		if unix < 0 || unix > 1e11 {
			return
		}
		// Only what Go's client would send: a header value without
		// control characters, a query string that parses.
		if !validHeaderValue(rng) || !validHeaderValue(token) {
			return
		}
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return
		}
		req := s3Request("GET", "bucket.s3.amazonaws.com", key, rawQuery)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		compareWithSDK(t, req, Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token},
			region, "s3", EmptyPayloadHash, time.Unix(unix, 0))
	})
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// BenchmarkSign signs one ranged GetObject; BenchmarkSignSDK does the same
// with the SDK's signer, for comparison.
func BenchmarkSign(b *testing.B) {
	base := s3Request("GET", "bucket.s3.eu-west-1.amazonaws.com", "dumps/host-1/vmcore.2026-12-03", "")
	base.Header.Set("Range", "bytes=1048576-2097151")
	c := docCreds
	c.SessionToken = "session-token"
	b.ReportAllocs()
	for b.Loop() {
		Sign(base.Clone(context.Background()), c, "eu-west-1", "s3", EmptyPayloadHash, docTime)
	}
}

func BenchmarkSignSDK(b *testing.B) {
	base := s3Request("GET", "bucket.s3.eu-west-1.amazonaws.com", "dumps/host-1/vmcore.2026-12-03", "")
	base.Header.Set("Range", "bytes=1048576-2097151")
	c := docCreds
	c.SessionToken = "session-token"
	base.Header.Set("X-Amz-Content-Sha256", EmptyPayloadHash)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	ac := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SignHTTP(context.Background(), ac, base.Clone(context.Background()), EmptyPayloadHash, "s3", "eu-west-1", docTime); err != nil {
			b.Fatal(err)
		}
	}
}
