package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.BaseURL != "http://localhost:8080" || c.M365Authority != "common" ||
		c.M365LoginURL != "https://login.microsoftonline.com" || c.M365GraphURL != "https://graph.microsoft.com" ||
		c.DatabaseURL != filepath.Join("data", "graphgate.db") || c.Production() || c.Secure() {
		t.Fatalf("defaults: %+v", c)
	}
	if c.CallbackURL() != "http://localhost:8080/api/v1/microsoft365/auth/callback" {
		t.Fatal(c.CallbackURL())
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	_, err := Load(env(map[string]string{
		"GRAPHGATE_BASE_URL":       "graphgate.example.com",
		"GRAPHGATE_M365_AUTHORITY": "contoso",
		"GRAPHGATE_M365_LOGIN_URL": "http://login.example.com",
		"GRAPHGATE_ENV":            "production",
		"GRAPHGATE_LOG_LEVEL":      "loud",
		"GRAPHGATE_ADMIN_EMAIL":    "a@b.test",
	}), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"GRAPHGATE_BASE_URL", "GRAPHGATE_M365_AUTHORITY", "GRAPHGATE_M365_LOGIN_URL",
		"GRAPHGATE_ENCRYPTION_KEY", "GRAPHGATE_LOG_LEVEL", "GRAPHGATE_ADMIN_PASSWORD"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestSecretsFromFilesAndRedaction(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	_ = os.WriteFile(pw, []byte("hunter2-very-secret\n"), 0o600)
	c, err := Load(env(map[string]string{
		"GRAPHGATE_ADMIN_EMAIL":         "admin@contoso.test",
		"GRAPHGATE_ADMIN_PASSWORD_FILE": pw,
		"GRAPHGATE_DATABASE_URL":        "postgres://gg:dbpass@db:5432/gg",
		"GRAPHGATE_M365_AUTHORITY":      "2F6B3C1E-8A4D-4F0B-9C7E-5D1A2B3C4D5E",
	}), map[string]string{"GRAPHGATE_ADDR": "127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPassword != "hunter2-very-secret" || c.Addr != "127.0.0.1:9999" || c.M365Authority != "2f6b3c1e-8a4d-4f0b-9c7e-5d1a2b3c4d5e" {
		t.Fatalf("%+v", c)
	}
	dump := c.Dump()
	for _, secret := range []string{"hunter2", "dbpass"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump shows %s:\n%s", secret, dump)
		}
	}
	if !strings.Contains(dump, "GRAPHGATE_ADMIN_PASSWORD=<redacted>") || !strings.Contains(dump, "GRAPHGATE_ADDR=127.0.0.1:9999") {
		t.Errorf("dump:\n%s", dump)
	}
	_, err = Load(env(map[string]string{"GRAPHGATE_ADMIN_PASSWORD": "x", "GRAPHGATE_ADMIN_PASSWORD_FILE": pw, "GRAPHGATE_ADMIN_EMAIL": "a@b"}), nil)
	if err == nil || !strings.Contains(err.Error(), "set one, not both") {
		t.Fatalf("both set: %v", err)
	}
	_, err = Load(env(map[string]string{"GRAPHGATE_ENCRYPTION_KEY_FILE": filepath.Join(dir, "missing")}), nil)
	if err == nil || !strings.Contains(err.Error(), "GRAPHGATE_ENCRYPTION_KEY_FILE") {
		t.Fatalf("missing file: %v", err)
	}
}

// Every value is checked here, before anything starts or is written: each
// bad one is named, all at once.
func TestEveryValueIsCheckedUpFront(t *testing.T) {
	for _, tc := range []struct {
		name, value string
	}{
		{"GRAPHGATE_ADDR", "nope"},
		{"GRAPHGATE_ADDR", ":99999"},
		{"GRAPHGATE_ADDR", "bad host!:8080"},
		{"GRAPHGATE_DATABASE_URL", "mysql://x"},
		{"GRAPHGATE_DATABASE_URL", "sqlite://x.db"},
		{"GRAPHGATE_ENCRYPTION_KEY", "c2hvcnQ="},
		{"GRAPHGATE_ENCRYPTION_KEY", "not base64 at all!"},
		{"GRAPHGATE_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"GRAPHGATE_OAUTH_PRIVATE_CLIENTS", "maybe"},
	} {
		_, err := Load(env(map[string]string{tc.name: tc.value}), nil)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
		}
		if err != nil && tc.name == "GRAPHGATE_ENCRYPTION_KEY" && strings.Contains(err.Error(), tc.value) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	for _, admin := range []map[string]string{
		{"GRAPHGATE_ADMIN_EMAIL": "admin@example.com", "GRAPHGATE_ADMIN_PASSWORD": "x"},
		{"GRAPHGATE_ADMIN_EMAIL": "not-an-email", "GRAPHGATE_ADMIN_PASSWORD": "a-long-enough-password"},
	} {
		if _, err := Load(env(admin), nil); err == nil || !strings.Contains(err.Error(), "GRAPHGATE_ADMIN_") {
			t.Errorf("%v: %v", admin, err)
		}
	}
	for _, good := range []map[string]string{
		{"GRAPHGATE_ADDR": "127.0.0.1:0"}, {"GRAPHGATE_ADDR": "[::1]:8080"}, {"GRAPHGATE_ADDR": "localhost:8080"},
		{"GRAPHGATE_DATABASE_URL": "postgresql://u@h/db"}, {"GRAPHGATE_DATABASE_URL": "/var/lib/graphgate/x.db"},
		{"GRAPHGATE_OAUTH_PRIVATE_CLIENTS": "yes"},
	} {
		if _, err := Load(env(good), nil); err != nil {
			t.Errorf("%v: %v", good, err)
		}
	}
}
