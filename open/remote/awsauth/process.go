package awsauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

const (
	// processTimeout is how long a credential_process may run, as in the
	// SDK for Go v2.
	processTimeout = time.Minute
	// maxProcessOutput bounds what a credential_process may print: its
	// JSON is well under a KiB.
	maxProcessOutput = 64 << 10
)

// Process gets credentials from a profile's credential_process: it runs
// Command with "sh -c", as the SDK for Go v2 does on Unix, with our
// environment, standard input and standard error (for an MFA prompt), for
// at most a minute, and reads from its standard output
//
//	{"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//	 "SessionToken": "...", "Expiration": "2026-12-03T15:04:05Z"}
//
// where SessionToken and Expiration are optional.
type Process struct {
	Command string
	// Profile is the profile that names the command, for messages.
	Profile string
}

// processOutput is what the command prints.
type processOutput struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      *time.Time
}

// Retrieve runs the command.
func (p Process) Retrieve(ctx context.Context) (Credentials, error) {
	return p.run(ctx, processTimeout)
}

func (p Process) run(ctx context.Context, timeout time.Duration) (Credentials, error) {
	fail := func(format string, args ...any) (Credentials, error) {
		return Credentials{}, fmt.Errorf("AWS profile %q: credential_process: %s", p.Profile, fmt.Sprintf(format, args...))
	}
	if p.Command == "" {
		return fail("empty command")
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", p.Command)
	out := &boundedBuffer{limit: maxProcessOutput, full: cancel}
	cmd.Stdout = out
	cmd.Stdin = os.Stdin
	cmd.Stderr = os.Stderr
	// A child of sh that keeps standard output open must not keep us
	// waiting once sh has gone.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case out.over:
		return fail("printed more than %d KiB", maxProcessOutput>>10)
	case err != nil && parent.Err() != nil:
		return Credentials{}, fmt.Errorf("AWS profile %q: credential_process: %w", p.Profile, parent.Err())
	case err != nil && ctx.Err() != nil:
		return fail("still running after %v", timeout)
	case err != nil:
		return fail("%v", err)
	}
	var resp processOutput
	if err := json.Unmarshal(out.buf.Bytes(), &resp); err != nil {
		// Only errors that cannot quote a secret are shown.
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		var timeErr *time.ParseError
		switch {
		case errors.As(err, &typeErr):
			return fail("its output's %s is a %s, not a %v", typeErr.Field, typeErr.Value, typeErr.Type)
		case errors.As(err, &timeErr):
			return fail("its output's Expiration is not an RFC 3339 time")
		case errors.As(err, &syntaxErr):
			return fail("its output is not JSON (at byte %d)", syntaxErr.Offset)
		}
		return fail("its output is not a JSON object of credentials")
	}
	switch {
	case resp.Version != 1:
		return fail("its output has Version %d, not 1", resp.Version)
	case resp.AccessKeyID == "":
		return fail("its output has no AccessKeyId")
	case resp.SecretAccessKey == "":
		return fail("its output has no SecretAccessKey")
	}
	c := Credentials{
		AccessKeyID:     resp.AccessKeyID,
		SecretAccessKey: resp.SecretAccessKey,
		SessionToken:    resp.SessionToken,
		Source:          fmt.Sprintf("profile %s: credential_process", p.Profile),
	}
	if resp.Expiration != nil {
		c.Expires = *resp.Expiration
	}
	return c, nil
}

// boundedBuffer keeps up to limit bytes; past that it calls full, once,
// and drops the rest, so that the command is not blocked on a full pipe.
type boundedBuffer struct {
	buf   bytes.Buffer
	limit int
	over  bool
	full  func()
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.over || b.buf.Len()+len(p) > b.limit {
		if !b.over {
			b.over = true
			b.full()
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}
