package awsauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EmptyPayloadHash is the hex SHA-256 of an empty body: the payload hash
// of a GET or HEAD.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// PayloadHash returns the hex SHA-256 of a request body, as Sign takes it.
func PayloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateForm  = "20060102T150405Z"
)

// ignoredHeader says whether a header (lower-case) goes unsigned:
// proxies and Go's transport add, drop or rewrite these (the same list as
// the AWS SDKs'). A switch, not a map: nothing to build at process start.
func ignoredHeader(name string) bool {
	switch name {
	case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding":
		return true
	}
	return false
}

// EscapePath percent-encodes an object key or path the way Signature
// Version 4 and S3 want it: every byte but A-Z a-z 0-9 - . _ ~ and '/',
// with upper-case hex digits. Put the result in req.URL.RawPath (and the
// key itself in req.URL.Path) so that what is sent is what is signed.
func EscapePath(p string) string {
	return escape(p, true)
}

// escape encodes s with the unreserved set of RFC 3986, keeping '/' when
// keepSlash is set.
func escape(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, keepSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte, keepSlash bool) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~':
		return true
	case c == '/':
		return keepSlash
	}
	return false
}

// Sign signs req with Signature Version 4 in its headers, as of now.
// payloadHash is the hex SHA-256 of the body (EmptyPayloadHash when there
// is none; PayloadHash for a small form body).
//
// It sets X-Amz-Date, X-Amz-Content-Sha256 (for service "s3" only),
// X-Amz-Security-Token (removed when c has no session token) and
// Authorization. Signed are host, content-length when req.ContentLength
// is positive, and every header on req at this point but those proxies
// rewrite (ignoredHeader); so set Range, If-Match and the like before
// signing and nothing after.
//
// The canonical URI is req.URL.EscapedPath() exactly (or the path of
// req.URL.Opaque): the caller escapes the path once, with EscapePath,
// which is what S3 expects. Services that want the path escaped twice are
// not supported; STS's path is "/". The query string is put in canonical
// form (each key and value encoded as EscapePath does but '/' too, pairs
// sorted) and req.URL.RawQuery is replaced by it, so that the query sent
// is the one signed. A default port (":443" for https, ":80" for http) is
// dropped from the Host header, as the SDKs do.
func Sign(req *http.Request, c Credentials, region, service, payloadHash string, now time.Time) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	amzDate := now.UTC().Format(amzDateForm)
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	} else {
		req.Header.Del("X-Amz-Security-Token")
	}

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if h, ok := stripDefaultPort(req.URL.Scheme, host); ok {
		host = h
		req.Host = h
	}

	names, canonHeaders := canonicalHeaders(req, host)
	signedHeaders := strings.Join(names, ";")

	query := canonicalQuery(req.URL.Query())
	req.URL.RawQuery = query

	scope := day + "/" + region + "/" + service + "/aws4_request"

	var cr strings.Builder
	cr.WriteString(req.Method)
	cr.WriteByte('\n')
	cr.WriteString(canonicalURI(req.URL))
	cr.WriteByte('\n')
	cr.WriteString(query)
	cr.WriteByte('\n')
	cr.WriteString(canonHeaders)
	cr.WriteByte('\n')
	cr.WriteString(signedHeaders)
	cr.WriteByte('\n')
	cr.WriteString(payloadHash)
	crHash := sha256.Sum256([]byte(cr.String()))

	toSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := signingKey(c.SecretAccessKey, day, region, service)
	sig := hex.EncodeToString(hmacSHA256(key, []byte(toSign)))

	req.Header.Set("Authorization", sigAlgorithm+" Credential="+c.AccessKeyID+"/"+scope+
		", SignedHeaders="+signedHeaders+", Signature="+sig)
}

// stripDefaultPort returns host without its port when the port is the
// scheme's default, and whether it dropped one.
func stripDefaultPort(scheme, host string) (string, bool) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return host, false // no port, or the colon is inside an IPv6 literal
	}
	port := host[i+1:]
	s := strings.ToLower(scheme)
	if port == "" || (s == "https" && port == "443") || (s == "http" && port == "80") {
		return host[:i], true
	}
	return host, false
}

// canonicalURI is the path as it goes on the wire.
func canonicalURI(u *url.URL) string {
	var p string
	if u.Opaque != "" {
		// "//host/path?query" or "/path": the path starts at the first
		// '/' after the authority.
		o, _, _ := strings.Cut(u.Opaque, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			p = o[i:]
		}
	} else {
		p = u.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return p
}

// canonicalHeaders returns the sorted lower-case names of the signed
// headers and their canonical block ("name:value\n" for each).
func canonicalHeaders(req *http.Request, host string) ([]string, string) {
	values := map[string][]string{}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	// Two spellings of one name ("Range", "range") merge in a fixed order.
	sort.Strings(keys)
	for _, k := range keys {
		lk := strings.ToLower(k)
		if ignoredHeader(lk) || lk == "host" || lk == "content-length" {
			continue
		}
		values[lk] = append(values[lk], req.Header[k]...)
	}
	values["host"] = []string{host}
	if req.ContentLength > 0 {
		values["content-length"] = []string{strconv.FormatInt(req.ContentLength, 10)}
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(':')
		for i, v := range values[k] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(canonicalValue(v))
		}
		b.WriteByte('\n')
	}
	return names, b.String()
}

// canonicalValue trims a header value and folds each inner run of spaces
// into one.
func canonicalValue(v string) string {
	if strings.Contains(v, "  ") {
		var b strings.Builder
		b.Grow(len(v))
		space := false
		for i := 0; i < len(v); i++ {
			if v[i] == ' ' {
				if space {
					continue
				}
				space = true
			} else {
				space = false
			}
			b.WriteByte(v[i])
		}
		v = b.String()
	}
	return strings.TrimSpace(v)
}

// canonicalQuery encodes every key and value (no '/' kept) and sorts the
// pairs by encoded key, then encoded value.
func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		ek := escape(k, false)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, escape(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// signingKeyID names one derived key.
type signingKeyID struct{ secret, day, region, service string }

// signingKeys caches derived keys: a key serves every request of its day,
// region and service, and deriving it costs four HMACs. The cache is
// emptied when it reaches maxSigningKeys, which only many credentials or
// regions within a day would do.
var signingKeys struct {
	sync.Mutex
	m map[signingKeyID][]byte
}

const maxSigningKeys = 32

// signingKey derives (or finds) the key of a secret, day (YYYYMMDD),
// region and service.
func signingKey(secret, day, region, service string) []byte {
	id := signingKeyID{secret, day, region, service}
	signingKeys.Lock()
	k, ok := signingKeys.m[id]
	signingKeys.Unlock()
	if ok {
		return k
	}
	k = hmacSHA256([]byte("AWS4"+secret), []byte(day))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	k = hmacSHA256(k, []byte("aws4_request"))
	signingKeys.Lock()
	if signingKeys.m == nil || len(signingKeys.m) >= maxSigningKeys {
		signingKeys.m = make(map[signingKeyID][]byte)
	}
	signingKeys.m[id] = k
	signingKeys.Unlock()
	return k
}
