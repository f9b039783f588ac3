package awsauth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The same files read by the SDK for Go v2 and by LoadProfile.

const sdkConfig = `# a realistic ~/.aws/config
[default]
region = us-east-1
output = json

[profile dev]
region = eu-west-1 ; where dev lives
Aws_Access_Key_Id = CFGKEY
aws_secret_access_key = CFGSECRET

[profile dev-admin]
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = dev
role_session_name = me
duration_seconds = 3600
mfa_serial = arn:aws:iam::111122223333:mfa/me
external_id = "ext-1"

[profile chained]
role_arn = arn:aws:iam::444455556666:role/Reader
source_profile = dev-admin
region = ap-southeast-2

[profile self]
role_arn = arn:aws:iam::111122223333:role/Self
source_profile = self
aws_access_key_id = SELFKEY
aws_secret_access_key = SELFSECRET

[profile ec2]
role_arn = arn:aws:iam::111122223333:role/Ec2
credential_source = Ec2InstanceMetadata
ca_bundle = /etc/ssl/corp.pem
ec2_metadata_service_endpoint = http://[fd00:ec2::254]
ec2_metadata_v1_disabled = TRUE
use_fips_endpoint = true
use_dualstack_endpoint = false

[profile login]
login_session = arn:aws:sts::111122223333:assumed-role/Admin/me
region = us-east-1

[profile web]
role_arn = arn:aws:iam::111122223333:role/Web
web_identity_token_file = /var/run/secrets/token
role_session_name = web

[profile proc]
credential_process = /opt/bin/creds --profile "x y"
region: us-west-1

[profile sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = eu-central-1

[profile sso-legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-2
sso_account_id = 111122223333
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access

[profile minio]
region = us-east-1
endpoint_url = http://profile.example:9000
services = local

[profile minio-noservice]
endpoint_url = http://profile.example:9000

[profile ignoring]
endpoint_url = http://profile.example:9000
ignore_configured_endpoint_urls = true

[services local]
s3 =
  endpoint_url = http://localhost:9000
sts =
  endpoint_url = http://localhost:9001

[profile both]
region = us-west-2
aws_access_key_id = CFGBOTH
aws_secret_access_key = CFGBOTHSECRET

[stray]
region = dropped
`

const sdkCredentials = `[default]
aws_access_key_id = DEFKEY
aws_secret_access_key = DEFSECRET
aws_session_token = DEFTOKEN

[both]
aws_access_key_id = CREDBOTH
aws_secret_access_key = CREDBOTHSECRET
region = eu-north-1

[credonly]
aws_access_key_id = ONLYKEY
aws_secret_access_key = ONLYSECRET
aws_account_id = 111122223333

[profile dropped]
aws_access_key_id = X
aws_secret_access_key = Y
`

func writeSDKFiles(t *testing.T) (cfg, cred string) {
	dir := t.TempDir()
	cfg, cred = filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte(sdkConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cred, []byte(sdkCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, cred
}

// compareProfileWithSDK checks ours against the SDK's view of one profile, and
// of its source profiles.
func compareProfileWithSDK(t *testing.T, ours Profile, sdk *config.SharedConfig) {
	t.Helper()
	var duration int
	if sdk.RoleDurationSeconds != nil {
		duration = int(*sdk.RoleDurationSeconds / time.Second)
	}
	ssoRegion, ssoStart := sdk.SSORegion, sdk.SSOStartURL
	if sdk.SSOSession != nil {
		ssoRegion, ssoStart = sdk.SSOSession.SSORegion, sdk.SSOSession.SSOStartURL
	}
	ignore := sdk.IgnoreConfiguredEndpoints != nil && *sdk.IgnoreConfiguredEndpoints
	s3Endpoint, _, _ := sdk.GetServiceBaseEndpoint(context.Background(), "S3")
	for _, c := range []struct{ field, ours, sdk string }{
		{"Name", ours.Name, sdk.Profile},
		{"Region", ours.Region, sdk.Region},
		{"AccessKeyID", ours.AccessKeyID, sdk.Credentials.AccessKeyID},
		{"SecretAccessKey", ours.SecretAccessKey, sdk.Credentials.SecretAccessKey},
		{"SessionToken", ours.SessionToken, sdk.Credentials.SessionToken},
		{"RoleARN", ours.RoleARN, sdk.RoleARN},
		{"SourceProfile", ours.SourceProfile, sdk.SourceProfileName},
		{"CredentialSource", ours.CredentialSource, sdk.CredentialSource},
		{"ExternalID", ours.ExternalID, sdk.ExternalID},
		{"RoleSessionName", ours.RoleSessionName, sdk.RoleSessionName},
		{"MFASerial", ours.MFASerial, sdk.MFASerial},
		{"WebIdentityTokenFile", ours.WebIdentityTokenFile, sdk.WebIdentityTokenFile},
		{"CredentialProcess", ours.CredentialProcess, sdk.CredentialProcess},
		{"SSOSession", ours.SSOSession, sdk.SSOSessionName},
		{"SSORegion", ours.SSORegion, ssoRegion},
		{"SSOStartURL", ours.SSOStartURL, ssoStart},
		{"SSOAccountID", ours.SSOAccountID, sdk.SSOAccountID},
		{"SSORoleName", ours.SSORoleName, sdk.SSORoleName},
		{"CABundle", ours.CABundle, sdk.CustomCABundle},
		{"Services", ours.Services, sdk.ServicesSectionName},
		{"AccountID", ours.AccountID, sdk.Credentials.AccountID},
		{"LoginSession", ours.LoginSession, sdk.LoginSession},
		{"EC2MetadataServiceEndpoint", ours.EC2MetadataServiceEndpoint, sdk.EC2IMDSEndpoint},
	} {
		if c.ours != c.sdk {
			t.Errorf("profile %s: %s = %q, the SDK's %q", ours.Name, c.field, c.ours, c.sdk)
		}
	}
	if ours.DurationSeconds != duration {
		t.Errorf("profile %s: DurationSeconds = %d, the SDK's %d", ours.Name, ours.DurationSeconds, duration)
	}
	if ours.IgnoreConfiguredEndpointURLs != ignore {
		t.Errorf("profile %s: IgnoreConfiguredEndpointURLs = %v, the SDK's %v", ours.Name, ours.IgnoreConfiguredEndpointURLs, ignore)
	}
	v1Disabled, _ := sdk.GetEC2IMDSV1FallbackDisabled()
	for _, c := range []struct {
		field     string
		ours, sdk bool
	}{
		{"EC2MetadataV1Disabled", ours.EC2MetadataV1Disabled, v1Disabled},
		{"UseFIPSEndpoint", ours.UseFIPSEndpoint, sdk.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled},
		{"UseDualStackEndpoint", ours.UseDualStackEndpoint, sdk.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled},
	} {
		if c.ours != c.sdk {
			t.Errorf("profile %s: %s = %v, the SDK's %v", ours.Name, c.field, c.ours, c.sdk)
		}
	}
	want := sdk.BaseEndpoint
	if s3Endpoint != "" {
		want = s3Endpoint
	}
	if ours.EndpointURL != want || ours.serviceEndpoint != (s3Endpoint != "") {
		t.Errorf("profile %s: EndpointURL = %q (services: %v), the SDK's %q, s3 %q", ours.Name, ours.EndpointURL, ours.serviceEndpoint, sdk.BaseEndpoint, s3Endpoint)
	}
	if (ours.Source == nil) != (sdk.Source == nil) {
		t.Fatalf("profile %s: Source %v, the SDK's %v", ours.Name, ours.Source, sdk.Source)
	}
	if ours.Source != nil {
		compareProfileWithSDK(t, *ours.Source, sdk.Source)
	}
}

func TestLoadProfileAgainstSDK(t *testing.T) {
	cfg, cred := writeSDKFiles(t)
	env := func(k string) string {
		return map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cred}[k]
	}
	for _, name := range []string{
		"default", "dev", "dev-admin", "chained", "self", "ec2", "login", "web", "proc", "sso", "sso-legacy",
		"minio", "minio-noservice", "ignoring", "both", "credonly", "stray", "dropped", "nosuch",
	} {
		t.Run(name, func(t *testing.T) {
			sdk, sdkErr := config.LoadSharedConfigProfile(context.Background(), name, func(o *config.LoadSharedConfigOptions) {
				o.ConfigFiles, o.CredentialsFiles = []string{cfg}, []string{cred}
			})
			ours, err := LoadProfile(env, name)
			var sdkNotFound config.SharedConfigProfileNotExistError
			var notFound *ProfileNotFoundError
			switch {
			case errors.As(sdkErr, &sdkNotFound):
				if !errors.As(err, &notFound) {
					t.Fatalf("the SDK: %v; ours: %v", sdkErr, err)
				}
				return
			case sdkErr != nil || err != nil:
				t.Fatalf("the SDK: %v; ours: %v", sdkErr, err)
			}
			compareProfileWithSDK(t, ours, &sdk)
		})
	}
}

// TestLoadSettingsAgainstSDK compares the region, static keys and S3
// endpoint with what config.LoadDefaultConfig and an S3 client make of
// the same files and environment.
func TestLoadSettingsAgainstSDK(t *testing.T) {
	cfg, cred := writeSDKFiles(t)
	clear := []string{
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID",
		"AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CA_BUNDLE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	}
	for _, tc := range []struct {
		name string
		vars []string
	}{
		{"default", nil},
		{"dev", []string{"AWS_PROFILE", "dev"}},
		{"both", []string{"AWS_PROFILE", "both"}},
		{"credonly", []string{"AWS_PROFILE", "credonly", "AWS_DEFAULT_REGION", "sa-east-1"}},
		{"region env", []string{"AWS_PROFILE", "dev", "AWS_REGION", "af-south-1", "AWS_DEFAULT_REGION", "sa-east-1"}},
		{"services", []string{"AWS_PROFILE", "minio"}},
		{"services and env", []string{"AWS_PROFILE", "minio", "AWS_ENDPOINT_URL", "http://env"}},
		{"services and env s3", []string{"AWS_PROFILE", "minio", "AWS_ENDPOINT_URL_S3", "http://env-s3"}},
		{"profile endpoint", []string{"AWS_PROFILE", "minio-noservice"}},
		{"env endpoint over profile", []string{"AWS_PROFILE", "minio-noservice", "AWS_ENDPOINT_URL", "http://env"}},
		{"ignored by profile", []string{"AWS_PROFILE", "ignoring", "AWS_ENDPOINT_URL_S3", "http://env-s3"}},
		{"ignored by env", []string{"AWS_PROFILE", "minio", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}},
		{"profile ignore overridden", []string{"AWS_PROFILE", "ignoring", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range clear {
				t.Setenv(k, "")
			}
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			t.Setenv("AWS_CONFIG_FILE", cfg)
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", cred)
			for i := 0; i+1 < len(tc.vars); i += 2 {
				t.Setenv(tc.vars[i], tc.vars[i+1])
			}
			ctx := context.Background()
			sdk, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := LoadSettings(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			if ours.Region != sdk.Region {
				t.Errorf("Region %q, the SDK's %q", ours.Region, sdk.Region)
			}
			client := s3.NewFromConfig(sdk)
			if got, want := ours.EndpointURL, aws.ToString(client.Options().BaseEndpoint); got != want {
				t.Errorf("EndpointURL %q, the SDK's %q", got, want)
			}
			if p := ours.Profile; p.AccessKeyID != "" {
				creds, err := sdk.Credentials.Retrieve(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if creds.AccessKeyID != p.AccessKeyID || creds.SecretAccessKey != p.SecretAccessKey || creds.SessionToken != p.SessionToken {
					t.Errorf("keys %s/%s/%s, the SDK's %s/%s/%s", p.AccessKeyID, p.SecretAccessKey, p.SessionToken,
						creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
				}
			}
		})
	}
}

// FuzzConfigFileAgainstSDK reads arbitrary config files with the SDK and
// with LoadProfile: where both load a profile, they must agree on it.
// (The SDK skips lines that are errors here, and takes some values, such
// as duration_seconds = 0x10, that are errors here.)
func FuzzConfigFileAgainstSDK(f *testing.F) {
	f.Add([]byte(sdkConfig))
	f.Add([]byte("[default]\nregion = a ; b\nk = 'v'\n[profile p]\nrole_arn = r\nsource_profile = default\naws_access_key_id = k\naws_secret_access_key = s\n"))
	f.Add([]byte("[profile p]\nservices = s\n[services s]\ns3 =\n  endpoint_url = http://x # y\nendpoint_url = z\n"))
	for _, seed := range []string{
		"[default]\nregion = \"us-east-1\" ;x\n",
		"[ profile  x ]\nregion:r\n[profile x]\nregion = s\n",
		"[default]\nregion = a\n  b\n\tc=d\n",
		"[DEFAULT]\nregion=x\n[profile default]\nregion = y\n",
		"[default]\nregion = #c\nendpoint_url = http://h/#f\n",
		"[profile a]\nrole_arn = ra\nsource_profile = b\n[profile b]\nrole_arn = rb\nsource_profile = a\ncredential_source = Environment\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	cfg, cred := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cred, nil, 0o600); err != nil {
		f.Fatal(err)
	}
	env := func(k string) string {
		return map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cred}[k]
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseINI(cfg, data)
		if err != nil {
			return
		}
		if err := os.WriteFile(cfg, data, 0o600); err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{"default": true}
		for name := range file.sections {
			names[strings.TrimPrefix(name, "profile ")] = true
		}
		for name := range names {
			ours, err := LoadProfile(env, name)
			if err != nil {
				continue
			}
			sdk, sdkErr := sdkProfile(name, cfg, cred)
			if sdkErr != nil {
				continue
			}
			compareProfileWithSDK(t, ours, &sdk)
		}
	})
}

// sdkProfile loads a profile with the SDK, whose parser panics on some
// inputs (a value that is a lone quote): that is an error here.
func sdkProfile(name, cfg, cred string) (sdk config.SharedConfig, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the SDK panicked")
		}
	}()
	return config.LoadSharedConfigProfile(context.Background(), name, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = []string{cfg}, []string{cred}
	})
}
