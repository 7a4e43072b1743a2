// Package config reads graphgate's configuration from GRAPHGATE_*
// environment variables (each secret also as *_FILE), validates it, and
// prints it with secrets redacted.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"graphgate/internal/clientip"
	"graphgate/internal/password"
	"graphgate/internal/secretbox"
	"graphgate/internal/tracing"
)

// Config is graphgate's effective configuration.
type Config struct {
	Addr            string
	BaseURL         string
	DataDir         string
	DatabaseURL     string
	EncryptionKey   string // base64 keys, newest first; empty: a key file in DataDir
	Env             string // development or production
	M365Authority   string
	M365LoginURL    string
	M365GraphURL    string
	AdminEmail      string
	AdminPassword   string
	LogLevel        slog.Level
	SessionLifetime time.Duration
	// AllowedHosts are host names graphgate answers besides the base URL's,
	// for a proxy that forwards another Host header.
	AllowedHosts []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; from anyone else the header is ignored.
	TrustedProxies clientip.Trusted
	// MetricsAddr, when set, serves /metrics on its own listener only.
	MetricsAddr string
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// DrainDelay is how long a stopping graphgate keeps serving with
	// /readyz failing, so that load balancers stop sending it requests
	// before it closes its listener.
	DrainDelay time.Duration
	// OAuthPrivateClients lets client metadata documents come from private
	// and loopback addresses (development, tests).
	OAuthPrivateClients bool
	// KeepAliveAge, when set, refreshes links unused for that long, before
	// Microsoft expires them after 90 days.
	KeepAliveAge time.Duration
	// Tracing is OpenTelemetry's standard variables: traces go to an OTLP
	// collector when they name one.
	Tracing tracing.Settings
}

// Production reports whether graphgate runs in production mode.
func (c *Config) Production() bool { return c.Env == "production" }

// Secure reports whether cookies must be Secure: the base URL is https.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// KeyFile is where the generated encryption key lives when none is configured.
func (c *Config) KeyFile() string { return filepath.Join(c.DataDir, "encryption.key") }

// CallbackURL is the redirect URI graphgate expects Entra to have registered.
func (c *Config) CallbackURL() string { return strings.TrimRight(c.BaseURL, "/") + CallbackPath }

// CallbackPath is the fixed path of the OAuth callback.
const CallbackPath = "/api/v1/microsoft365/auth/callback"

// variable is one row of the configuration table.
type variable struct {
	name   string
	def    string
	secret bool
	help   string
	set    func(c *Config, v string) error
}

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

// variables is the configuration table, in the order `graphgate config` prints it.
var variables = []variable{
	{"GRAPHGATE_ADDR", ":8080", false, "address to listen on", func(c *Config, v string) error {
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			return errors.New("must be host:port or :port, such as :8080 or 127.0.0.1:8080")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("port %q must be a number from 0 to 65535", port)
		}
		if host != "" && net.ParseIP(strings.Trim(host, "[]")) == nil && !hostRE.MatchString(strings.ToLower(host)) {
			return fmt.Errorf("%q is not a host name or address", host)
		}
		c.Addr = v
		return nil
	}},
	{"GRAPHGATE_BASE_URL", "http://localhost:8080", false, "the URL people and Microsoft reach graphgate at",
		func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return errors.New("must be an absolute http(s) URL such as https://graphgate.example.com")
			}
			c.BaseURL = strings.TrimRight(v, "/")
			return nil
		}},
	{"GRAPHGATE_DATA_DIR", "./data", false, "folder for the SQLite database and the generated key", str(func(c *Config) *string { return &c.DataDir })},
	{"GRAPHGATE_DATABASE_URL", "", true, "postgres://... for PostgreSQL; empty: SQLite in the data folder", func(c *Config, v string) error {
		if scheme, _, ok := strings.Cut(v, "://"); ok {
			if scheme != "postgres" && scheme != "postgresql" {
				return fmt.Errorf("%s:// is not a database graphgate speaks: give postgres://... or a SQLite file path", scheme)
			}
			if _, err := url.Parse(v); err != nil {
				return errors.New("is not a valid postgres:// URL")
			}
		}
		c.DatabaseURL = v
		return nil
	}},
	{"GRAPHGATE_ENCRYPTION_KEY", "", true, "32 random bytes, base64; several comma-separated, newest first, during a rotation",
		func(c *Config, v string) error {
			if v != "" {
				if _, err := secretbox.ParseKeys(v); err != nil {
					return err
				}
			}
			c.EncryptionKey = v
			return nil
		}},
	{"GRAPHGATE_ENV", "development", false, "development or production", func(c *Config, v string) error {
		if v != "development" && v != "production" {
			return errors.New(`must be "development" or "production"`)
		}
		c.Env = v
		return nil
	}},
	{"GRAPHGATE_M365_AUTHORITY", "common", false, "common, organizations, consumers, or a tenant ID to allow one tenant only",
		func(c *Config, v string) error {
			if v != "common" && v != "organizations" && v != "consumers" && !IsGUID(v) {
				return errors.New("must be common, organizations, consumers or a tenant ID (a GUID)")
			}
			c.M365Authority = strings.ToLower(v)
			return nil
		}},
	{"GRAPHGATE_M365_LOGIN_URL", "https://login.microsoftonline.com", false, "the identity platform's base URL", serviceURL(func(c *Config) *string { return &c.M365LoginURL })},
	{"GRAPHGATE_M365_GRAPH_URL", "https://graph.microsoft.com", false, "Microsoft Graph's base URL", serviceURL(func(c *Config) *string { return &c.M365GraphURL })},
	{"GRAPHGATE_ADMIN_EMAIL", "", false, "first admin, created when there are no users", str(func(c *Config) *string { return &c.AdminEmail })},
	{"GRAPHGATE_ADMIN_PASSWORD", "", true, "the first admin's password", str(func(c *Config) *string { return &c.AdminPassword })},
	{"GRAPHGATE_LOG_LEVEL", "info", false, "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"GRAPHGATE_ALLOWED_HOSTS", "", false, "host names to answer besides the base URL's, comma-separated (a proxy's internal name)",
		func(c *Config, v string) error {
			c.AllowedHosts = nil
			for h := range strings.SplitSeq(v, ",") {
				h = strings.ToLower(strings.TrimSpace(h))
				if h == "" {
					continue
				}
				if !hostRE.MatchString(h) {
					return fmt.Errorf("%q is not a host name (give names such as graphgate.internal, without scheme, port or path)", h)
				}
				c.AllowedHosts = append(c.AllowedHosts, h)
			}
			return nil
		}},
	{"GRAPHGATE_TRUSTED_PROXIES", "", false, "reverse proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For names the client; set it behind a proxy",
		func(c *Config, v string) error {
			t, err := clientip.Parse(v)
			c.TrustedProxies = t
			return err
		}},
	{"GRAPHGATE_METRICS_ADDR", "", false, "serve /metrics only on this address (such as 127.0.0.1:9090); empty: on the main address",
		str(func(c *Config) *string { return &c.MetricsAddr })},
	{"GRAPHGATE_METRICS_TOKEN", "", true, "bearer token /metrics requires; empty: none", str(func(c *Config) *string { return &c.MetricsToken })},
	{"GRAPHGATE_DRAIN_DELAY", "0s", false, "on SIGTERM, fail /readyz and keep serving this long before draining (5s behind a load balancer)",
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 5*time.Minute {
				return errors.New("must be a duration from 0s to 5m, such as 5s")
			}
			c.DrainDelay = d
			return nil
		}},
	{"GRAPHGATE_OAUTH_PRIVATE_CLIENTS", "off", false, "fetch client metadata from private and loopback addresses too (development only): on or off (true/false, yes/no, 1/0 too)",
		func(c *Config, v string) error {
			on, err := onOff(v)
			c.OAuthPrivateClients = on
			return err
		}},
	{"GRAPHGATE_KEEPALIVE_AGE", "0s", false, "refresh Microsoft grants unused this long (such as 720h), before Microsoft expires them at 90 days; 0s: off",
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 0 && d < time.Hour || d > 89*24*time.Hour {
				return errors.New("must be 0s (off) or a duration from 1h to 2136h (89 days), such as 720h")
			}
			c.KeepAliveAge = d
			return nil
		}},
	{"GRAPHGATE_SESSION_LIFETIME", "12h", false, "how long a sign-in lasts", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return errors.New("must be a duration of at least 1m, such as 12h")
		}
		c.SessionLifetime = d
		return nil
	}},
	// OpenTelemetry's own names, read as its SDKs read them.
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", false, "send traces to this OTLP collector (HTTP, such as http://collector:4318); unset: no traces",
		str(func(c *Config) *string { return &c.Tracing.Endpoint })},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", false, "the full URL for traces instead (such as http://collector:4318/v1/traces)",
		str(func(c *Config) *string { return &c.Tracing.TracesEndpoint })},
	{"OTEL_EXPORTER_OTLP_HEADERS", "", true, "headers for the collector, name=value,name=value (an API key, say)",
		str(func(c *Config) *string { return &c.Tracing.Headers })},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", false, "the OTLP protocol: http/protobuf (the one graphgate speaks)",
		str(func(c *Config) *string { return &c.Tracing.Protocol })},
	{"OTEL_SERVICE_NAME", "graphgate", false, "the service name on the traces", str(func(c *Config) *string { return &c.Tracing.ServiceName })},
	{"OTEL_TRACES_SAMPLER", "parentbased_always_on", false, "always_on, always_off, traceidratio or their parentbased_ forms",
		str(func(c *Config) *string { return &c.Tracing.Sampler })},
	{"OTEL_TRACES_SAMPLER_ARG", "", false, "the ratio (0 to 1) of the traceidratio samplers", str(func(c *Config) *string { return &c.Tracing.SamplerArg })},
	{"OTEL_SDK_DISABLED", "false", false, "true: no traces, whatever else is set", func(c *Config, v string) error {
		off, err := onOff(v)
		c.Tracing.Disabled = off
		return err
	}},
}

func onOff(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, errors.New(`must be on or off (or true/false, yes/no, 1/0)`)
}

func serviceURL(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
			return errors.New("must be a base URL such as https://login.microsoftonline.com")
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			return errors.New("must use https (http only for localhost)")
		}
		*dst(c) = strings.TrimRight(v, "/")
		return nil
	}
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

var hostRE = regexp.MustCompile(`^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$`)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID such as Entra uses for ids.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// Load reads the configuration. lookup is os.LookupEnv in production;
// overrides (from flags) win over the environment. Every problem is
// reported, each naming the variable to fix.
func Load(lookup func(string) (string, bool), overrides map[string]string) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, v := range variables {
		val, source, err := value(v, lookup, overrides)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := v.set(c, val); err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", v.name, source, err))
		}
	}
	if c.DatabaseURL == "" && c.DataDir != "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "graphgate.db")
	}
	if c.Production() && c.EncryptionKey == "" {
		errs = append(errs, errors.New("GRAPHGATE_ENCRYPTION_KEY: required in production (32 random bytes, base64: `openssl rand -base64 32`)"))
	}
	switch {
	case (c.AdminEmail == "") != (c.AdminPassword == ""):
		errs = append(errs, errors.New("GRAPHGATE_ADMIN_EMAIL and GRAPHGATE_ADMIN_PASSWORD: set both or neither"))
	case c.AdminEmail != "":
		if at := strings.Index(c.AdminEmail, "@"); at < 1 || at == len(c.AdminEmail)-1 || strings.ContainsAny(c.AdminEmail, " <>\"") {
			errs = append(errs, errors.New("GRAPHGATE_ADMIN_EMAIL: give an email address such as admin@example.com"))
		}
		if why := password.Check(c.AdminPassword); why != "" {
			errs = append(errs, fmt.Errorf("GRAPHGATE_ADMIN_PASSWORD: %s", why))
		}
	}
	if err := c.Tracing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// value finds a variable's value: flag override, then NAME, then NAME_FILE
// for secrets, then the default.
func value(v variable, lookup func(string) (string, bool), overrides map[string]string) (val, source string, err error) {
	if o, ok := overrides[v.name]; ok {
		return o, " (flag)", nil
	}
	direct, hasDirect := lookup(v.name)
	if v.secret {
		if path, ok := lookup(v.name + "_FILE"); ok && path != "" {
			if hasDirect && direct != "" {
				return "", "", fmt.Errorf("%s and %s_FILE: set one, not both", v.name, v.name)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return "", "", fmt.Errorf("%s_FILE: %w", v.name, err)
			}
			return strings.TrimRight(string(b), "\r\n"), " (from " + v.name + "_FILE)", nil
		}
	}
	if hasDirect && direct != "" {
		return direct, "", nil
	}
	return v.def, "", nil
}

// Dump returns the effective configuration, one NAME=value a line, secrets
// shown as <redacted> (or <unset>).
func (c *Config) Dump() string {
	vals := map[string]string{
		"GRAPHGATE_ADDR": c.Addr, "GRAPHGATE_BASE_URL": c.BaseURL, "GRAPHGATE_DATA_DIR": c.DataDir,
		"GRAPHGATE_DATABASE_URL": c.DatabaseURL, "GRAPHGATE_ENCRYPTION_KEY": c.EncryptionKey, "GRAPHGATE_ENV": c.Env,
		"GRAPHGATE_M365_AUTHORITY": c.M365Authority, "GRAPHGATE_M365_LOGIN_URL": c.M365LoginURL,
		"GRAPHGATE_M365_GRAPH_URL": c.M365GraphURL, "GRAPHGATE_ADMIN_EMAIL": c.AdminEmail,
		"GRAPHGATE_ADMIN_PASSWORD": c.AdminPassword, "GRAPHGATE_LOG_LEVEL": strings.ToLower(c.LogLevel.String()),
		"GRAPHGATE_SESSION_LIFETIME": c.SessionLifetime.String(), "GRAPHGATE_ALLOWED_HOSTS": strings.Join(c.AllowedHosts, ","),
		"GRAPHGATE_TRUSTED_PROXIES": c.TrustedProxies.String(), "GRAPHGATE_METRICS_ADDR": c.MetricsAddr, "GRAPHGATE_METRICS_TOKEN": c.MetricsToken, "GRAPHGATE_DRAIN_DELAY": c.DrainDelay.String(),
		"GRAPHGATE_OAUTH_PRIVATE_CLIENTS": onOffString(c.OAuthPrivateClients), "GRAPHGATE_KEEPALIVE_AGE": c.KeepAliveAge.String(),
		"OTEL_EXPORTER_OTLP_ENDPOINT": c.Tracing.Endpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.Tracing.TracesEndpoint,
		"OTEL_EXPORTER_OTLP_HEADERS": c.Tracing.Headers, "OTEL_EXPORTER_OTLP_PROTOCOL": c.Tracing.Protocol, "OTEL_SERVICE_NAME": c.Tracing.ServiceName,
		"OTEL_TRACES_SAMPLER": c.Tracing.Sampler, "OTEL_TRACES_SAMPLER_ARG": c.Tracing.SamplerArg, "OTEL_SDK_DISABLED": strconv.FormatBool(c.Tracing.Disabled),
	}
	var b strings.Builder
	for _, v := range variables {
		val := vals[v.name]
		switch {
		case v.name == "GRAPHGATE_DATABASE_URL" && !strings.Contains(val, "://"):
			// A SQLite path holds no secret.
		case v.secret && val != "":
			val = "<redacted>"
		case v.secret:
			val = "<unset>"
		}
		if v.name == "GRAPHGATE_ENCRYPTION_KEY" && c.EncryptionKey == "" {
			val = "<unset: key file " + c.KeyFile() + ">"
		}
		fmt.Fprintf(&b, "%s=%s\n", v.name, val)
	}
	return b.String()
}

func onOffString(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// MCPURL is the MCP endpoint's URL: the resource OAuth tokens are for.
func (c *Config) MCPURL() string { return strings.TrimRight(c.BaseURL, "/") + "/mcp" }

// Names lists every configuration variable, secrets' *_FILE forms included.
func Names() []string {
	var names []string
	for _, v := range variables {
		names = append(names, v.name)
		if v.secret {
			names = append(names, v.name+"_FILE")
		}
	}
	return names
}

// Help describes every variable, for --help texts.
func Help() string {
	var b strings.Builder
	for _, v := range variables {
		def := v.def
		if def == "" {
			def = "unset"
		}
		extra := ""
		if v.secret {
			extra = " (secret; also " + v.name + "_FILE)"
		}
		fmt.Fprintf(&b, "  %-28s %s; default %s%s\n", v.name, v.help, def, extra)
	}
	return b.String()
}
