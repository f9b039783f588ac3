package awsauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Container gets keys from a container credentials endpoint: ECS task
// roles, EKS Pod Identity, or any local service that speaks the same
// protocol.
type Container struct {
	// Client sends the request; nil: a client with a 30 s timeout.
	Client *http.Client
	// URL is the endpoint (see ContainerURL).
	URL string
	// Token goes in the Authorization header
	// (AWS_CONTAINER_AUTHORIZATION_TOKEN); TokenFile, when set, holds it
	// instead and is read at every Retrieve, since it is rotated
	// (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
	Token, TokenFile string
}

const ecsAgentEndpoint = "http://169.254.170.2"

// ContainerURL returns the container credentials endpoint that env names,
// or "" when it names none: http://169.254.170.2 followed by
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI when that is set, else
// AWS_CONTAINER_CREDENTIALS_FULL_URI. A full URL over plain http must
// name a loopback host or the ECS or EKS agent (169.254.170.2,
// 169.254.170.23, fd00:ec2::23); a host name is resolved, and all its
// addresses must be such, as the AWS SDKs require.
func ContainerURL(env Env) (string, error) {
	if rel := env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		if !strings.HasPrefix(rel, "/") {
			return "", fmt.Errorf("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI %q does not start with '/'", oneLine(rel, 200))
		}
		return ecsAgentEndpoint + rel, nil
	}
	full := env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if full == "" {
		return "", nil
	}
	u, err := url.Parse(full)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// or https:// URL with a host")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ok, err := allowedContainerHost(host)
		if err != nil {
			return "", fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI: resolving %s: %w", host, err)
		}
		if !ok {
			return "", fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI: host %s is not loopback nor the ECS or EKS agent, as plain http requires", host)
		}
	}
	return full, nil
}

// allowedContainerHost says whether all addresses of host are allowed
// over plain http.
func allowedContainerHost(host string) (bool, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return allowedContainerIP(ip), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || !allowedContainerIP(ip) {
			return false, nil
		}
	}
	return len(addrs) > 0, nil
}

// allowedContainerIP says whether a plain-http endpoint may have address
// ip: loopback, or ECS's or EKS's credentials agent.
func allowedContainerIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() ||
		ip == netip.AddrFrom4([4]byte{169, 254, 170, 2}) || // ECS
		ip == netip.AddrFrom4([4]byte{169, 254, 170, 23}) || // EKS
		ip == netip.AddrFrom16([16]byte{0xfd, 0x00, 0x0e, 0xc2, 15: 0x23}) // EKS: fd00:ec2::23
}

// containerCredentials is the endpoint's answer.
type containerCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
}

// containerError is its error document.
type containerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Retrieve fetches the keys.
func (c *Container) Retrieve(ctx context.Context) (Credentials, error) {
	return retrieveHiding(ctx, c.retrieve, func(err error) error { return fmt.Errorf("container credentials: %w", err) })
}

// retrieve adds the token it sends to sent.
func (c *Container) retrieve(ctx context.Context, sent *[]string) (Credentials, error) {
	if c.URL == "" {
		return Credentials{}, errors.New("no endpoint")
	}
	token := c.Token
	if c.TokenFile != "" {
		b, err := readBounded(c.TokenFile)
		if err != nil {
			return Credentials{}, fmt.Errorf("reading the authorization token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	*sent = append(*sent, token)
	if strings.ContainsAny(token, "\r\n") {
		return Credentials{}, errors.New("the authorization token holds a line break")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return Credentials{}, errors.New("the endpoint is not a valid URL")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, body, err := send(c.Client, req)
	if err != nil {
		return Credentials{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e containerError
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return Credentials{}, fmt.Errorf("the endpoint answered %s: %s (HTTP %d)",
				oneLine(e.Code, 100), oneLine(scrub(e.Message, token), 400), resp.StatusCode)
		}
		return Credentials{}, fmt.Errorf("the endpoint answered HTTP %d", resp.StatusCode)
	}
	var cc containerCredentials
	if err := json.Unmarshal(body, &cc); err != nil {
		return Credentials{}, errors.New("the endpoint answered with malformed JSON")
	}
	if cc.AccessKeyID == "" || cc.SecretAccessKey == "" {
		return Credentials{}, errors.New("the endpoint answered without complete credentials")
	}
	out := Credentials{
		AccessKeyID:     cc.AccessKeyID,
		SecretAccessKey: cc.SecretAccessKey,
		SessionToken:    cc.Token,
		Source:          "container",
	}
	if cc.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, cc.Expiration)
		if err != nil {
			return Credentials{}, fmt.Errorf("expiration %q is not an RFC 3339 time", oneLine(cc.Expiration, 40))
		}
		out.Expires = exp
	}
	return out, nil
}
