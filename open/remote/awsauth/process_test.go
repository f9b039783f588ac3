package awsauth

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script into a temporary directory
// and gives its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "creds.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

const processSecret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"

func TestProcess(t *testing.T) {
	path := script(t, `echo "args: $*" >&2
cat <<EOF
{"Version": 1, "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "`+processSecret+`",
 "SessionToken": "TOKEN", "Expiration": "2026-12-03T15:04:05Z", "AccountId": "111122223333"}
EOF
`)
	// The command is a shell command line: quoting and arguments work.
	p := Process{Command: "'" + path + "' first 'second arg'", Profile: "dev"}

	// Standard error goes to ours.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	creds, err := p.Retrieve(context.Background())
	os.Stderr = saved
	w.Close()
	stderr, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: processSecret, SessionToken: "TOKEN",
		Expires: time.Date(2026, 12, 3, 15, 4, 5, 0, time.UTC), Source: "profile dev: credential_process",
	}
	if !creds.Expires.Equal(want.Expires) {
		t.Errorf("Expires %v, want %v", creds.Expires, want.Expires)
	}
	creds.Expires = want.Expires
	if creds != want {
		t.Errorf("got  %+v\nwant %+v", creds, want)
	}
	if string(stderr) != "args: first second arg\n" {
		t.Errorf("stderr %q", stderr)
	}

	// Without SessionToken and Expiration: long-term keys.
	path = script(t, `echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}'`)
	creds, err = Process{Command: path, Profile: "p"}.Retrieve(context.Background())
	if err != nil || creds.SessionToken != "" || !creds.Expires.IsZero() || creds.AccessKeyID != "A" {
		t.Errorf("long-term keys: %+v, %v", creds, err)
	}
}

func TestProcessErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"exit status", "echo '" + processSecret + "'; exit 3", "exit status 3"},
		{"not json", "echo 'SecretAccessKey=" + processSecret + "'", "its output is not JSON"},
		{"truncated", `printf '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"` + processSecret + `'`, "its output is not JSON"},
		{"version 2", `echo '{"Version":2,"AccessKeyId":"A","SecretAccessKey":"` + processSecret + `"}'`, "Version 2, not 1"},
		{"no version", `echo '{"AccessKeyId":"A","SecretAccessKey":"` + processSecret + `"}'`, "Version 0, not 1"},
		{"version string", `echo '{"Version":"1","AccessKeyId":"A","SecretAccessKey":"` + processSecret + `"}'`, "its output's Version is a string, not a int"},
		{"no access key", `echo '{"Version":1,"SecretAccessKey":"` + processSecret + `"}'`, "no AccessKeyId"},
		{"no secret key", `echo '{"Version":1,"AccessKeyId":"A","SessionToken":"` + processSecret + `"}'`, "no SecretAccessKey"},
		{"bad expiration", `echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"` + processSecret + `","Expiration":"tomorrow"}'`, "Expiration is not an RFC 3339 time"},
		{"array", `echo '["` + processSecret + `"]'`, "is a array"},
		{"too much output", "head -c 100000 /dev/zero | tr '\\0' x; echo", "printed more than 64 KiB"},
		{"endless output", "yes " + processSecret, "printed more than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Process{Command: script(t, tc.body), Profile: "prof"}.Retrieve(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), `AWS profile "prof": credential_process: `) {
				t.Errorf("err = %v: no profile", err)
			}
			if strings.Contains(err.Error(), processSecret[:8]) {
				t.Errorf("err = %v: quotes the secret", err)
			}
		})
	}
	if _, err := (Process{Profile: "prof"}).Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "empty command") {
		t.Errorf("empty command: %v", err)
	}
}

func TestProcessTimeout(t *testing.T) {
	// A command that outlives the timeout, with a child that keeps its
	// standard output open.
	// The processes left (the SDK leaves them too) are killed at the end.
	pids := filepath.Join(t.TempDir(), "pids")
	p := Process{Command: script(t, "echo $$ >>"+pids+"\nsleep 30 2>/dev/null &\necho $! >>"+pids+"\nexec sleep 30 2>/dev/null\n"), Profile: "slow"}
	t.Cleanup(func() {
		data, _ := os.ReadFile(pids)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				if proc, err := os.FindProcess(pid); err == nil {
					_ = proc.Kill()
				}
			}
		}
	})
	start := time.Now()
	_, err := p.run(context.Background(), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "still running after 200ms") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	// The caller's ctx ends it too, with the ctx's error.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = p.Retrieve(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
