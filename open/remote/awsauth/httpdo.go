package awsauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxAnswer bounds every answer body read here: credentials, tokens and
// error documents are a few KiB.
const maxAnswer = 1 << 20

// defaultTimeout bounds a request made with a nil Client: a credentials
// service that does not answer within this time is taken as down.
const defaultTimeout = 30 * time.Second

// send sends req with client (when nil, a plain client with
// defaultTimeout) without following
// redirects, so no header (a bearer token, a signature) goes to another
// host, and returns the response with its body read, at most maxAnswer
// bytes. A redirect comes back as its 3xx response.
func send(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	var c http.Client
	if client != nil {
		c = *client
	} else {
		c.Timeout = defaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxAnswer {
		return nil, nil, errors.New("the answer is larger than 1 MiB")
	}
	return resp, body, nil
}

// readSmallFile reads the file name if it holds at most limit bytes;
// ok is false when it holds more (and data is then not all of it).
func readSmallFile(name string, limit int) (data []byte, ok bool, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, int64(limit)+1))
	return data, len(data) <= limit, err
}

// oneLine makes text from a server fit in a one-line message: control
// characters become spaces, runs of spaces fold, and it is cut to max
// runes.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// secretError is an error whose text has the secrets its request carried
// taken out (a server may quote what it was sent, in any field); it
// unwraps to the error it stands for.
type secretError struct {
	msg string
	err error
}

func (e *secretError) Error() string { return e.msg }
func (e *secretError) Unwrap() error { return e.err }

// retrieveHiding runs fetch, which adds every token it sends to its
// second argument, and returns its error as wrap makes it, with those
// tokens taken out.
func retrieveHiding(ctx context.Context, fetch func(context.Context, *[]string) (Credentials, error), wrap func(error) error) (Credentials, error) {
	var sent []string
	c, err := fetch(ctx, &sent)
	if err != nil {
		return Credentials{}, hideSecrets(wrap(err), sent...)
	}
	return c, nil
}

// hideSecrets returns err with every secret taken out of its text.
func hideSecrets(err error, secrets ...string) error {
	if msg := scrub(err.Error(), secrets...); msg != err.Error() {
		return &secretError{msg: msg, err: err}
	}
	return err
}

// scrub removes the secrets from a server's message, in case it quotes
// what it was sent.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
