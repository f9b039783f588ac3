package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// getter makes one GET of an object: of bytes [first, last], or of the
// whole object when first < 0, conditional on the pin when it is not nil,
// and counts the HTTP requests it sends.
// It returns the response as a reply for response.go to check, or a
// transport error. Errors never hold a query string.
type getter interface {
	get(ctx context.Context, first, last int64, p *pin) (*reply, error)
	// closeIdle closes the idle connections.
	closeIdle()
}

// httpGetter reads http:// and https:// URLs, presigned ones included
// (their query string carries the signature and is never shown).
type httpGetter struct {
	client   *http.Client
	url      string // the full URL, query included: never in a message
	header   http.Header
	requests *atomic.Int64 // counts requests sent
}

// maxRedirects bounds same-host redirects per request.
const maxRedirects = 5

// newHTTPClient returns the client of http(s) URLs: connections kept
// alive for as many requests as may be in flight, no transparent
// decompression (the bytes must be the object's), dial and TLS timeouts,
// and a redirect policy that follows only the same scheme and host.
//
// Go's client drops Authorization (and Cookie) when it follows a
// redirect to another host, so the second request would go out without
// the credentials the first one had; a presigned URL's signature does
// not carry over either. Rather than fail later with a puzzling 403, a
// cross-host redirect is refused at once with ErrRedirect naming the
// target host, so the user can open that URL directly.
func newHTTPClient(rt http.RoundTripper, inFlight int) *http.Client {
	if rt == nil {
		rt = newTransport(inFlight)
	}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect}
}

// newTransport is the transport of remote objects: connections kept
// alive for as many requests as may be in flight, no transparent
// decompression, dial and TLS timeouts.
func newTransport(inFlight int) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * inFlight,
		MaxIdleConnsPerHost:   inFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// redirectError is returned by checkRedirect; it names only hosts.
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("the server redirects from %s to %s, which is not followed: credentials (an Authorization header, a presigned signature) do not carry over to another host; open the target URL directly", e.from, e.to)
}

func (e *redirectError) Unwrap() error { return ErrRedirect }

func checkRedirect(req *http.Request, via []*http.Request) error {
	orig := via[0].URL
	if req.URL.Scheme != orig.Scheme || req.URL.Host != orig.Host {
		return &redirectError{from: orig.Scheme + "://" + orig.Host, to: req.URL.Scheme + "://" + req.URL.Host}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
	}
	return nil
}

func (g *httpGetter) get(ctx context.Context, first, last int64, p *pin) (*reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, errors.New("cannot build the request") // the error would quote the URL
	}
	for k, v := range g.header {
		req.Header[k] = v
	}
	setRange(req.Header, first, last, p)
	return send(g.client, req, g.requests)
}

// setRange asks for bytes [first, last] (the whole object when first <
// 0), conditional on the pin when it is not nil.
func setRange(h http.Header, first, last int64, p *pin) {
	if first >= 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(first, 10)+"-"+strconv.FormatInt(last, 10))
	}
	if p != nil {
		p.conditions(h)
	}
}

// send counts and sends req, asking for the bytes as they are stored.
// Accept-Encoding is set here, after any signature: a proxy may rewrite
// it.
func send(c *http.Client, req *http.Request, requests *atomic.Int64) (*reply, error) {
	req.Header.Set("Accept-Encoding", "identity")
	requests.Add(1)
	resp, err := c.Do(req)
	if err != nil {
		// *url.Error quotes the whole URL, signature included: keep only
		// what it wraps.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return &reply{status: resp.StatusCode, header: resp.Header, contentLength: resp.ContentLength, body: resp.Body}, nil
}

func (g *httpGetter) closeIdle() { g.client.CloseIdleConnections() }
