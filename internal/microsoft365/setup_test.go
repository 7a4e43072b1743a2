package microsoft365

import (
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	good := Setup{ClientID: "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59", ClientSecret: "abc8Q~0123456789abcdefghijklmnopqrstuvwx",
		RedirectURI: "https://gg.example.com/api/v1/microsoft365/auth/callback", SecretExpires: "2028-11-25"}
	if exp, errs := good.Validate(true, now); errs != nil || exp.Year() != 2028 {
		t.Fatalf("good setup: %v %v", errs, exp)
	}
	for _, tc := range []struct {
		name  string
		edit  func(s *Setup)
		field string
	}{
		{"empty client ID", func(s *Setup) { s.ClientID = "" }, FieldClientID},
		{"client ID not a GUID", func(s *Setup) { s.ClientID = "graphgate-app" }, FieldClientID},
		{"secret ID pasted", func(s *Setup) { s.ClientSecret = "0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d" }, FieldClientSecret},
		{"missing secret", func(s *Setup) { s.ClientSecret = "" }, FieldClientSecret},
		{"short secret", func(s *Setup) { s.ClientSecret = "abc" }, FieldClientSecret},
		{"relative redirect", func(s *Setup) { s.RedirectURI = "/api/v1/microsoft365/auth/callback" }, FieldRedirectURI},
		{"http redirect", func(s *Setup) { s.RedirectURI = "http://gg.example.com/api/v1/microsoft365/auth/callback" }, FieldRedirectURI},
		{"wrong path", func(s *Setup) { s.RedirectURI = "https://gg.example.com/callback" }, FieldRedirectURI},
		{"query", func(s *Setup) { s.RedirectURI = "https://gg.example.com/api/v1/microsoft365/auth/callback?x=1" }, FieldRedirectURI},
		{"bad date", func(s *Setup) { s.SecretExpires = "next year" }, FieldSecretExpires},
		{"past date", func(s *Setup) { s.SecretExpires = "2025-01-01" }, FieldSecretExpires},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			_, errs := s.Validate(true, now)
			if errs[tc.field] == "" || len(errs) != 1 {
				t.Fatalf("errors %v, want one on %s", errs, tc.field)
			}
		})
	}
	local := good
	local.RedirectURI = "http://localhost:8080/api/v1/microsoft365/auth/callback"
	local.ClientSecret = ""
	if _, errs := local.Validate(false, now); errs != nil {
		t.Fatalf("localhost http and kept secret: %v", errs)
	}
}
