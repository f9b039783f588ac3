package awsauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// IMDS gets the keys of an EC2 instance's role from the instance metadata
// service, version 2 (a session token first, then the role's keys).
type IMDS struct {
	// Client sends the requests; nil: a client with a 30 s timeout.
	Client *http.Client
	// Endpoint is the service's URL; "": http://169.254.169.254.
	Endpoint string
}

const (
	imdsDefaultEndpoint = "http://169.254.169.254"
	imdsRolesPath       = "/latest/meta-data/iam/security-credentials/"
	// imdsTokenTimeout bounds the first request: off EC2 nothing answers
	// at 169.254.169.254, and the chain should move on at once.
	imdsTokenTimeout = time.Second
	// imdsTimeout bounds each later request, as the AWS SDK for Go does.
	imdsTimeout = 5 * time.Second
)

// imdsCredentials is the role document.
type imdsCredentials struct {
	Code            string
	Message         string
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
}

// Retrieve fetches the keys of the instance's role. Errors read "no
// instance role (instance metadata: ...)".
func (m *IMDS) Retrieve(ctx context.Context) (Credentials, error) {
	return retrieveHiding(ctx, m.retrieve, func(err error) error { return fmt.Errorf("no instance role (instance metadata: %w)", err) })
}

// retrieve adds the token it sends to sent.
func (m *IMDS) retrieve(ctx context.Context, sent *[]string) (Credentials, error) {
	ep := strings.TrimSuffix(m.Endpoint, "/")
	if ep == "" {
		ep = imdsDefaultEndpoint
	}
	token, err := m.token(ctx, ep)
	if err != nil {
		return Credentials{}, err
	}
	*sent = append(*sent, token)
	list, err := m.get(ctx, ep+imdsRolesPath, token)
	if err != nil {
		return Credentials{}, err
	}
	role := ""
	for _, line := range strings.Split(string(list), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			role = line
			break
		}
	}
	if role == "" {
		return Credentials{}, errors.New("the instance has no role")
	}
	if !validRoleName(role) {
		return Credentials{}, fmt.Errorf("role name %q is not an IAM role name", oneLine(role, 64))
	}
	doc, err := m.get(ctx, ep+imdsRolesPath+role, token)
	if err != nil {
		return Credentials{}, fmt.Errorf("role %s: %w", role, err)
	}
	var ic imdsCredentials
	if err := json.Unmarshal(doc, &ic); err != nil {
		return Credentials{}, fmt.Errorf("role %s: malformed JSON", role)
	}
	if !strings.EqualFold(ic.Code, "Success") {
		return Credentials{}, fmt.Errorf("role %s: %s: %s", role, oneLine(ic.Code, 100),
			oneLine(scrub(ic.Message, ic.SecretAccessKey, ic.Token), 400))
	}
	if ic.AccessKeyID == "" || ic.SecretAccessKey == "" || ic.Token == "" {
		return Credentials{}, fmt.Errorf("role %s: incomplete credentials", role)
	}
	exp, err := time.Parse(time.RFC3339, ic.Expiration)
	if err != nil {
		return Credentials{}, fmt.Errorf("role %s: expiration %q is not an RFC 3339 time", role, oneLine(ic.Expiration, 40))
	}
	return Credentials{
		AccessKeyID:     ic.AccessKeyID,
		SecretAccessKey: ic.SecretAccessKey,
		SessionToken:    ic.Token,
		Expires:         exp,
		Source:          "instance role " + role,
	}, nil
}

// token gets a session token (IMDSv2), within imdsTokenTimeout.
func (m *IMDS) token(ctx context.Context, ep string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, imdsTokenTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, ep+"/latest/api/token", nil)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", ep, err)
	}
	req.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
	resp, body, err := send(m.Client, req)
	if err != nil {
		return "", fmt.Errorf("getting a session token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("getting a session token: HTTP %d", resp.StatusCode)
	}
	token := string(bytes.TrimSpace(body))
	if token == "" || strings.ContainsAny(token, "\r\n") {
		return "", errors.New("getting a session token: an empty or malformed token")
	}
	return token, nil
}

// get reads one metadata document.
func (m *IMDS) get(ctx context.Context, u, token string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Aws-Ec2-Metadata-Token", token)
	resp, body, err := send(m.Client, req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusNotFound:
		return nil, errors.New("no role attached to the instance (HTTP 404)")
	}
	return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
}

// validRoleName says whether name is an IAM role name: 1 to 64 of
// A-Z a-z 0-9 and + = , . @ _ -, so it can go in a URL path as it is.
func validRoleName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0) {
			return false
		}
	}
	return true
}
