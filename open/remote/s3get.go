package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Getter reads s3://bucket/key through the AWS SDK for Go v2, which
// finds credentials and region the way the AWS CLI does (environment,
// shared config and credentials files, SSO, web identity, container and
// instance roles) and signs every request. The SDK's own retries are off:
// the fetch loop retries, counts and bounds them for both backends.
//
// The SDK hands back the raw HTTP response of every GetObject, success or
// failure, so the S3 path is checked by exactly the code that checks
// plain HTTP (response.go).
type s3Getter struct {
	client   *s3.Client
	hc       *http.Client
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
// MinIO, Ceph, R2, ...); the SDK also takes AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL from the environment. With any endpoint override,
// requests use path-style addressing (https://endpoint/bucket/key), which
// every S3-compatible store serves, rather than bucket.endpoint.
//
// The HTTP client is the SDK's own (so that AWS_CA_BUNDLE and the SDK's
// redirect rules apply), with as many idle connections as requests in
// flight and no transparent decompression; rt replaces its transport in
// tests.
func newS3Getter(ctx context.Context, bucket, key, endpoint string, rt http.RoundTripper, parallel int, requests *atomic.Int64) (*s3Getter, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	var hc *http.Client
	if rt != nil {
		hc = newHTTPClient(rt, parallel)
	} else {
		bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
		if !ok || bc == nil {
			bc = awshttp.NewBuildableClient()
		}
		frozen := bc.WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConnsPerHost = parallel
			tr.MaxIdleConns = max(tr.MaxIdleConns, 2*parallel)
			tr.DisableCompression = true
		}).Freeze()
		if hc, ok = frozen.(*http.Client); !ok {
			return nil, fmt.Errorf("the AWS SDK built a %T, not an *http.Client", frozen)
		}
	}
	region := cfg.Region
	if region == "" {
		// Unset: S3's global default; a bucket elsewhere answers with its
		// region, and get switches to it once.
		region = "us-east-1"
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = o.BaseEndpoint != nil
		o.Region = region
		o.HTTPClient = hc
		// Whole-object checksums do not apply to ranges; do not ask.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &s3Getter{client: c, hc: hc, endpoint: aws.ToString(c.Options().BaseEndpoint),
		bucket: bucket, key: key, region: region, requests: requests}, nil
}

func (g *s3Getter) closeIdle() { g.hc.CloseIdleConnections() }

func (g *s3Getter) get(ctx context.Context, first, last int64, p *pin) (*reply, error) {
	r, err := g.getOnce(ctx, first, last, p)
	if err != nil || !g.wrongRegion(r) {
		return r, err
	}
	return g.getOnce(ctx, first, last, p)
}

func (g *s3Getter) getOnce(ctx context.Context, first, last int64, p *pin) (*reply, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(g.key)}
	if first >= 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10))
	}
	if p != nil {
		switch {
		case p.strongETag():
			in.IfMatch = aws.String(p.etag)
		case p.lastModified != "":
			if t, err := http.ParseTime(p.lastModified); err == nil {
				in.IfUnmodifiedSince = aws.Time(t)
			}
		}
	}
	g.mu.Lock()
	region := g.region
	g.mu.Unlock()
	g.requests.Add(1) // the SDK's retries are off: one GetObject, one request
	out, err := g.client.GetObject(ctx, in, func(o *s3.Options) { o.Region = region })
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
			r := &reply{status: re.Response.StatusCode, header: re.Response.Header, contentLength: -1, body: http.NoBody}
			var api smithy.APIError
			if errors.As(err, &api) {
				r.detail = api.ErrorCode()
				if m := api.ErrorMessage(); m != "" {
					r.detail += ": " + m
				}
			}
			return r, nil
		}
		// "operation error S3: GetObject, ..." adds nothing: keep the cause.
		var oe *smithy.OperationError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, err
	}
	raw, _ := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if raw == nil || raw.Response == nil {
		out.Body.Close()
		return nil, failure(ErrProtocol, 0, false, "the S3 client returned no HTTP response")
	}
	return &reply{status: raw.StatusCode, header: raw.Header, contentLength: raw.ContentLength, body: out.Body}, nil
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
	if want == "" || want == g.region || g.switched {
		return false
	}
	g.region, g.switched = want, true
	return true
}
