package oauthserver

import (
	"net/url"
	"testing"
	"time"
)

func TestRedirectMatching(t *testing.T) {
	registered := []string{"https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1/callback", "cursor://anysphere.cursor-retrieval/oauth/cb"}
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"https://claude.ai/api/mcp/auth_callback", true},
		{"http://127.0.0.1:53682/callback", true}, // any port on loopback (RFC 8252)
		{"http://127.0.0.1/callback", true},
		{"cursor://anysphere.cursor-retrieval/oauth/cb", true},
		{"https://claude.ai/api/mcp/auth_callback?x=1", false},
		{"https://claude.ai.evil.example/api/mcp/auth_callback", false},
		{"https://claude.ai:8443/api/mcp/auth_callback", false}, // ports matter off loopback
		{"http://127.0.0.1:53682/other", false},
		{"http://localhost:53682/callback", false}, // another loopback name is another URI
		{"http://127.0.0.1@evil.example/callback", false},
		{"HTTPS://claude.ai/api/mcp/auth_callback", false},
	} {
		if got := redirectMatches(registered, tc.uri); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.uri, got, tc.want)
		}
	}
}

func TestRedirectURIsAtRegistration(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://claude.ai/api/mcp/auth_callback", true},
		{"http://127.0.0.1:33418/", true},
		{"http://localhost/callback", true},
		{"vscode://vscode.github-authentication/did-authenticate", true},
		{"http://evil.example/cb", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"file:///etc/passwd", false},
		{"https://x.example/cb#frag", false},
		{"/relative", false},
		{"https:///nohost", false},
	} {
		_, err := checkRedirectURIs([]string{tc.uri})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.uri, err)
		}
	}
}

func TestMetadataCacheLifetime(t *testing.T) {
	for cc, want := range map[string]time.Duration{"": 5 * time.Minute, "max-age=60": time.Minute, "public, max-age=999999": 24 * time.Hour,
		"no-store": 0, "no-cache, max-age=60": 0, "max-age=-5": 5 * time.Minute, "max-age=abc": 5 * time.Minute} {
		if got := cacheTTL(cc); got != want {
			t.Errorf("%q: %v, want %v", cc, got, want)
		}
	}
}

// FuzzRedirectMatch: a requested redirect URI that matches goes to the
// scheme, host and path of a registered one, whatever it is made of.
func FuzzRedirectMatch(f *testing.F) {
	f.Add("http://127.0.0.1/callback", "http://127.0.0.1:1234/callback")
	f.Add("https://claude.ai/cb", "https://claude.ai/cb")
	f.Add("https://claude.ai/cb", "https://claude.ai@evil/cb")
	f.Add("http://[::1]/cb", "http://[::1]:9/cb")
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !redirectMatches([]string{registered}, requested) {
			return
		}
		if registered == requested {
			return // exact: registered URIs were checked at registration
		}
		reg, err1 := url.Parse(registered)
		req, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil {
			t.Fatalf("matched unparsable %q to %q", requested, registered)
		}
		if reg.Scheme != req.Scheme || reg.Hostname() != req.Hostname() || reg.Path != req.Path || req.User != nil {
			t.Fatalf("%q matched %q", requested, registered)
		}
	})
}
