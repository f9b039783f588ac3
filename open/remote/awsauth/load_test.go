package awsauth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// The chain is checked against the AWS SDK for Go v2: for each
// configuration below, Load and the SDK's config.LoadDefaultConfig, given
// the same environment, files and one fake AWS on loopback (STS, SSO, the
// instance metadata service and a container endpoint), must come to the
// same keys. The fake gives each caller keys that say who asked.

// fakeAWS answers STS AssumeRole (whose keys name the role and the
// signer's key) and AssumeRoleWithWebIdentity, the SSO portal, IMDSv2 and
// a container endpoint.
func fakeAWS(t *testing.T) string {
	t.Helper()
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	creds := func(w http.ResponseWriter, id string) {
		json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "AccessKeyId": id, "SecretAccessKey": "secret-" + id,
			"Token": "token-" + id, "Expiration": expires})
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/":
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			action, role := r.Form.Get("Action"), r.Form.Get("RoleArn")
			var id string
			switch action {
			case "AssumeRole":
				_, key, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
				key, _, _ = strings.Cut(key, "/")
				id = "ROLE-" + path.Base(role) + "-BY-" + key
			case "AssumeRoleWithWebIdentity":
				id = "WEB-" + path.Base(role) + "-" + r.Form.Get("WebIdentityToken")
			default:
				http.Error(w, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult><Credentials>`+
				`<AccessKeyId>%[2]s</AccessKeyId><SecretAccessKey>secret-%[2]s</SecretAccessKey><SessionToken>token-%[2]s</SessionToken>`+
				`<Expiration>%[3]s</Expiration></Credentials></%[1]sResult></%[1]sResponse>`, action, id, expires)
		case r.URL.Path == "/federation/credentials":
			id := "SSO-" + r.URL.Query().Get("account_id") + "-" + r.URL.Query().Get("role_name") + "-" + r.Header.Get("X-Amz-Sso_bearer_token")
			json.NewEncoder(w).Encode(map[string]any{"roleCredentials": map[string]any{"accessKeyId": id, "secretAccessKey": "secret-" + id,
				"sessionToken": "token-" + id, "expiration": time.Now().Add(time.Hour).UnixMilli()}})
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
			w.Write([]byte("imds-token"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			w.Write([]byte("instance-role\n"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/instance-role":
			creds(w, "IMDS-"+r.Header.Get("X-Aws-Ec2-Metadata-Token"))
		case r.URL.Path == "/container":
			creds(w, "CONTAINER-"+r.Header.Get("Authorization"))
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// cleanEnv clears every AWS variable, points the config files and HOME
// at a new folder, turns the instance metadata service off and returns
// the folder.
func cleanEnv(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAgainstSDK(t *testing.T) {
	ssoToken := func(dir, name string) {
		sum := sha1.Sum([]byte(name))
		writeFile(t, filepath.Join(dir, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
			`{"accessToken":"sso-token","expiresAt":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`","region":"eu-west-1","startUrl":"https://start.example/start"}`)
	}
	for _, c := range []struct {
		name   string
		env    map[string]string
		config string
		creds  string
		setup  func(dir string)
		want   string // the access key both must find
	}{
		{name: "environment keys win over the profile's",
			env:   map[string]string{"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"},
			creds: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n",
			want:  "ENVKEY"},
		{name: "the named profile's keys, the credentials file over the config file",
			env:    map[string]string{"AWS_PROFILE": "dev"},
			config: "[profile dev]\nregion = eu-west-1\naws_access_key_id = CONFIGKEY\naws_secret_access_key = s\n",
			creds:  "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = s\n[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s\n",
			want:   "DEVKEY"},
		{name: "a role assumed with a source profile's keys",
			env:    map[string]string{"AWS_PROFILE": "admin"},
			config: "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n[profile base]\nregion = us-east-1\n",
			creds:  "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = s\n",
			want:   "ROLE-admin-BY-BASEKEY"},
		{name: "roles chained through two source profiles",
			env:    map[string]string{"AWS_PROFILE": "top"},
			config: "[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = mid\n[profile mid]\nrole_arn = arn:aws:iam::1:role/mid\nsource_profile = base\n",
			creds:  "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = s\n",
			want:   "ROLE-top-BY-ROLE-mid-BY-BASEKEY"},
		{name: "a profile that is its own source",
			env:   map[string]string{"AWS_PROFILE": "self"},
			creds: "[self]\naws_access_key_id = SELFKEY\naws_secret_access_key = s\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n",
			want:  "ROLE-self-BY-SELFKEY"},
		{name: "a web identity token named in the environment",
			env:   map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::1:role/web", "AWS_ROLE_SESSION_NAME": "s"},
			setup: func(dir string) { writeFile(t, filepath.Join(dir, "token"), "web-token") },
			want:  "WEB-web-web-token"},
		{name: "a web identity token named in the profile",
			config: "[default]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = TOKEN\n",
			setup:  func(dir string) { writeFile(t, filepath.Join(dir, "token"), "profile-token") },
			want:   "WEB-web-profile-token"},
		{name: "credential_process",
			config: "[default]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"PROCKEY\",\"SecretAccessKey\":\"s\"}'\n",
			want:   "PROCKEY"},
		{name: "a role assumed with the same profile's keys, no source_profile",
			config: "[default]\naws_access_key_id = OWNKEY\naws_secret_access_key = s\nrole_arn = arn:aws:iam::1:role/own\n",
			want:   "ROLE-own-BY-OWNKEY"},
		{name: "keys win over credential_process in one profile",
			config: "[default]\naws_access_key_id = KEYS\naws_secret_access_key = s\ncredential_process = false\n",
			want:   "KEYS"},
		{name: "a role assumed with credential_process's keys",
			config: "[default]\nrole_arn = arn:aws:iam::1:role/p\nsource_profile = proc\n[profile proc]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"PROCKEY\",\"SecretAccessKey\":\"s\"}'\n",
			want:   "ROLE-p-BY-PROCKEY"},
		{name: "SSO, legacy profile",
			config: "[default]\nsso_start_url = https://start.example/start\nsso_region = eu-west-1\nsso_account_id = 111122223333\nsso_role_name = Reader\n",
			setup:  func(dir string) { ssoToken(dir, "https://start.example/start") },
			want:   "SSO-111122223333-Reader-sso-token"},
		{name: "SSO through an sso-session",
			config: "[default]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n[sso-session corp]\nsso_start_url = https://start.example/start\nsso_region = eu-west-1\n",
			setup:  func(dir string) { ssoToken(dir, "corp") },
			want:   "SSO-111122223333-Reader-sso-token"},
		{name: "a role assumed with a container's credentials (credential_source)",
			env:    map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "FAKE/container", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ctoken"},
			config: "[default]\nrole_arn = arn:aws:iam::1:role/ecs\ncredential_source = EcsContainer\n",
			want:   "ROLE-ecs-BY-CONTAINER-ctoken"},
		{name: "a role assumed with the instance's credentials (credential_source)",
			env:    map[string]string{"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "FAKE"},
			config: "[default]\nrole_arn = arn:aws:iam::1:role/ec2\ncredential_source = Ec2InstanceMetadata\n",
			want:   "ROLE-ec2-BY-IMDS-imds-token"},
		{name: "a role assumed with the same profile's credential_process",
			config: "[default]\nrole_arn = arn:aws:iam::1:role/pr\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"PROCKEY\",\"SecretAccessKey\":\"s\"}'\n",
			want:   "ROLE-pr-BY-PROCKEY"},
		{name: "a role assumed with an SSO profile's credentials",
			config: "[default]\nrole_arn = arn:aws:iam::1:role/sr\nsource_profile = sso\n[profile sso]\nsso_start_url = https://start.example/start\nsso_region = eu-west-1\nsso_account_id = 111122223333\nsso_role_name = Reader\n",
			setup:  func(dir string) { ssoToken(dir, "https://start.example/start") },
			want:   "ROLE-sr-BY-SSO-111122223333-Reader-sso-token"},
		{name: "a container endpoint",
			env:  map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "FAKE/container", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ctoken"},
			want: "CONTAINER-ctoken"},
		{name: "the instance metadata service",
			env:  map[string]string{"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "FAKE"},
			want: "IMDS-imds-token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := cleanEnv(t)
			fake := fakeAWS(t)
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ENDPOINT_URL_STS", fake)
			t.Setenv("AWS_ENDPOINT_URL_SSO", fake)
			if _, ok := c.env["AWS_ROLE_ARN"]; ok {
				t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", filepath.Join(dir, "token"))
			}
			for k, v := range c.env {
				t.Setenv(k, strings.ReplaceAll(v, "FAKE", fake))
			}
			writeFile(t, filepath.Join(dir, "config"), strings.ReplaceAll(c.config, "TOKEN", filepath.Join(dir, "token")))
			writeFile(t, filepath.Join(dir, "credentials"), c.creds)
			if c.setup != nil {
				c.setup(dir)
			}
			ctx := context.Background()
			cfg, err := Load(ctx, os.Getenv, nil)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sdkCfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
			if err != nil {
				t.Fatalf("the SDK: %v", err)
			}
			theirs, err := sdkCfg.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatalf("the SDK: %v", err)
			}
			if ours.AccessKeyID != c.want || theirs.AccessKeyID != c.want ||
				ours.SecretAccessKey != theirs.SecretAccessKey || ours.SessionToken != theirs.SessionToken {
				t.Fatalf("want %s; ours %s/%s/%s (%s), the SDK's %s/%s/%s", c.want, ours.AccessKeyID, ours.SecretAccessKey, ours.SessionToken,
					ours.Source, theirs.AccessKeyID, theirs.SecretAccessKey, theirs.SessionToken)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		config string
		want   string // in the error of Load or of the first Retrieve
	}{
		{name: "nothing anywhere", want: "no AWS credentials"},
		{name: "a key without its secret", env: map[string]string{"AWS_ACCESS_KEY_ID": "K"}, want: "AWS_SECRET_ACCESS_KEY is not"},
		{name: "a profile that is not there", env: map[string]string{"AWS_PROFILE": "nope"}, want: "nope"},
		{name: "source profiles in a cycle", env: map[string]string{"AWS_PROFILE": "a"},
			config: "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
			want:   "source_profile"},
		{name: "MFA", config: "[default]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = k\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile k]\naws_access_key_id = K\naws_secret_access_key = s\n",
			want: "mfa_serial"},
		{name: "an unknown credential_source", config: "[default]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Elsewhere\n", want: "credential_source"},
		{name: "incomplete SSO", config: "[default]\nsso_start_url = https://start.example/start\n", want: "incomplete SSO"},
		{name: "an expired SSO token", config: "[default]\nsso_start_url = https://start.example/start\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n", want: "sso login"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := cleanEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			writeFile(t, filepath.Join(dir, "config"), c.config)
			cfg, err := Load(context.Background(), os.Getenv, nil)
			if err == nil {
				_, err = cfg.Credentials.Retrieve(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}
