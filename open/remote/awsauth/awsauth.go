// Package awsauth finds AWS credentials the way the AWS CLI and SDKs do
// and signs requests with Signature Version 4: what reading s3:// objects
// needs, without the AWS SDK for Go, whose package initialisation alone
// cost every dumpscope command, S3 or not, about 4 ms of CPU at start.
//
// Where credentials come from, in the SDKs' order (see Load): the
// environment's keys, a web identity token named in the environment, the
// profile of the shared config and credentials files (an assumed role,
// SSO, keys, credential_process, a web identity token), a container's
// credentials endpoint, and the instance metadata service.
//
// Nothing here logs or returns a secret in an error.
package awsauth

import (
	"context"
	"time"
)

// Credentials are one set of AWS keys.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is empty for long-term keys.
	SessionToken string
	// Expires is when they stop working; zero: never.
	Expires time.Time
	// Source says where they came from, for messages ("environment",
	// "profile dev: credential_process"); never a secret.
	Source string
}

// Provider fetches credentials. Retrieve may be called from several
// goroutines, and again once the credentials it returned expire.
type Provider interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// Env reads one environment variable: os.Getenv, or a map's lookup in
// tests, so that nothing here reads the process environment behind the
// caller's back.
type Env func(string) string
