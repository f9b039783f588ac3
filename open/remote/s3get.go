package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dumpscope/open/remote/awsauth"
)

// s3Getter reads s3://bucket/key with GetObject requests signed with
// Signature Version 4 (package awsauth), which also finds credentials and
// region the way the AWS CLI does (environment, shared config and
// credentials files, SSO, credential_process, web identity, container and
// instance roles). The fetch loop retries, counts and bounds failures for
// both backends, and every answer, success or failure, is checked by
// exactly the code that checks plain HTTP (response.go).
type s3Getter struct {
	hc       *http.Client
	creds    awsauth.Provider
	endpoint string // the endpoint override in force, or ""
	bucket   string
	key      string
	requests *atomic.Int64 // counts requests sent

	mu sync.Mutex
	// region is the region requests are signed for; it changes once when
	// S3 answers that the bucket lives elsewhere.
	region   string
	switched bool
}

// parseS3URL splits s3://bucket/key. Like the AWS CLI, it takes the key
// literally (no percent-decoding; '?' and '#' are part of the key).
func parseS3URL(raw string) (bucket, key string, err error) {
	if len(raw) < 5 || !strings.EqualFold(raw[:5], "s3://") {
		return "", "", errors.New("not an s3:// URL")
	}
	rest := raw[5:]
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return "", "", errors.New("an S3 URL is s3://BUCKET/KEY")
	}
	return bucket, key, nil
}

// newS3Getter loads the AWS configuration and builds a client. endpoint,
// when not empty, overrides the S3 endpoint (an S3-compatible store:
// MinIO, Ceph, R2, ...), as do AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL and
// the profile's endpoint_url. With any endpoint override, requests use
// path-style addressing (https://endpoint/bucket/key), which every
// S3-compatible store serves, rather than bucket.endpoint.
//
// The HTTP client is the one of http(s) URLs, trusting AWS_CA_BUNDLE's
// (or the profile's ca_bundle) certificates when set; rt replaces its
// transport in tests.
func newS3Getter(ctx context.Context, bucket, key, endpoint string, rt http.RoundTripper, parallel int, requests *atomic.Int64) (*s3Getter, error) {
	cfg, err := awsauth.Load(ctx, os.Getenv, nil)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if endpoint == "" {
		endpoint = cfg.EndpointURL
	}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("the S3 endpoint %q is not an http:// or https:// URL", clip(endpointName(endpoint)))
		}
	}
	if rt == nil && cfg.CABundle != "" {
		if rt, err = caBundleTransport(cfg.CABundle, parallel); err != nil {
			return nil, err
		}
	}
	region := cfg.Region
	if region == "" {
		// Unset: S3's global default; a bucket elsewhere answers with its
		// region, and get switches to it once.
		region = "us-east-1"
	}
	return &s3Getter{hc: newHTTPClient(rt, parallel), creds: cfg.Credentials, endpoint: strings.TrimRight(endpoint, "/"),
		bucket: bucket, key: key, region: region, requests: requests}, nil
}

// endpointName is an endpoint for messages: without user information,
// which may hold a password, or a query string, whatever the scheme, or
// with none.
func endpointName(ep string) string {
	if strings.Contains(ep, "://") {
		return redactRaw(ep)
	}
	return strings.TrimPrefix(redactRaw("x://"+ep), "x://")
}

// caBundleTransport is newHTTPClient's transport trusting the PEM
// certificates of file as well as the system's.
func caBundleTransport(file string, parallel int) (http.RoundTripper, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("the AWS CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the AWS CA bundle %s holds no PEM certificate", file)
	}
	tr := newTransport(parallel)
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr, nil
}

func (g *s3Getter) closeIdle() { g.hc.CloseIdleConnections() }

func (g *s3Getter) get(ctx context.Context, first, last int64, p *pin) (*reply, error) {
	r, err := g.getOnce(ctx, first, last, p)
	if err != nil || !g.wrongRegion(r) {
		return r, err
	}
	return g.getOnce(ctx, first, last, p)
}

// objectURL is where the object is in region: the endpoint override's
// path style, or AWS's virtual-hosted style (bucket.s3.REGION.DOMAIN/key)
// when the bucket name is a DNS label, else its path style.
func (g *s3Getter) objectURL(region string) string {
	path := "/" + awsauth.EscapePath(g.key)
	if g.endpoint != "" {
		return g.endpoint + "/" + awsauth.EscapePath(g.bucket) + path
	}
	host := "s3." + region + "." + awsauth.DNSSuffix(region)
	if virtualHostable(g.bucket) {
		return "https://" + g.bucket + "." + host + path
	}
	return "https://" + host + "/" + awsauth.EscapePath(g.bucket) + path
}

// virtualHostable reports whether bucket can be a host name label under
// TLS: 3 to 63 lower-case letters, digits and hyphens, not at either end,
// and no dot (a dotted name would not match the wildcard certificate).
func virtualHostable(bucket string) bool {
	return len(bucket) >= 3 && awsauth.DNSLabel(bucket) && bucket[0] != '-' && bucket[len(bucket)-1] != '-'
}

func (g *s3Getter) getOnce(ctx context.Context, first, last int64, p *pin) (*reply, error) {
	g.mu.Lock()
	region := g.region
	g.mu.Unlock()
	creds, err := g.creds.Retrieve(ctx)
	if err != nil {
		// Its text already names the source ("no AWS credentials: ...",
		// "assuming role ...: STS answered ..."). A new error, not a
		// wrapped one: a credential source's network failure (an
		// instance metadata service that does not answer) is final, not
		// a transient failure of the object's requests to retry.
		return nil, errors.New(err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.objectURL(region), nil)
	if err != nil {
		return nil, errors.New("cannot build the S3 request") // the error would quote the URL
	}
	setRange(req.Header, first, last, p)
	awsauth.Sign(req, creds, region, "s3", awsauth.EmptyPayloadHash, time.Now())
	r, err := send(g.hc, req, g.requests)
	if err != nil {
		return nil, err
	}
	if r.status >= 300 {
		// S3's error document: keep its code and message for the error
		// line, and let the connection go back to the pool.
		body, _ := io.ReadAll(io.LimitReader(r.body, maxErrorBody))
		r.body.Close()
		r.detail, r.body, r.contentLength = s3ErrorDetail(body), http.NoBody, -1
	}
	return r, nil
}

// maxErrorBody bounds how much of an S3 error document is read.
const maxErrorBody = 64 << 10

// s3ErrorDetail returns "Code: Message" of an S3 error document
// (<Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>), or ""
// when body is not one.
func s3ErrorDetail(body []byte) string {
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &doc) != nil || doc.Code == "" {
		return ""
	}
	if doc.Message == "" {
		return doc.Code
	}
	return doc.Code + ": " + doc.Message
}

// wrongRegion switches to the bucket's region, once, when S3 answers a
// request signed for another region with the bucket's region (301
// PermanentRedirect or 400 AuthorizationHeaderMalformed carry
// x-amz-bucket-region).
func (g *s3Getter) wrongRegion(r *reply) bool {
	if r.status != http.StatusMovedPermanently && r.status != http.StatusBadRequest {
		return false
	}
	want := r.header.Get("X-Amz-Bucket-Region")
	g.mu.Lock()
	defer g.mu.Unlock()
	if want == "" || want == g.region || g.switched || !awsauth.DNSLabel(want) {
		return false
	}
	g.region, g.switched = want, true
	return true
}
