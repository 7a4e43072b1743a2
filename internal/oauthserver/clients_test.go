package oauthserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
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
		{"http://evil@127.0.0.1/callback", false},
		{"http://evil@127.0.0.1:9999/callback", false},
		{"http://127.0.0.1:0/callback", false},
		{"http://127.0.0.1:99999/callback", false},
		{"http://127.0.0.1:/callback", false},
		{"http://127.0.0.1:053682/callback", false},
		{"http://127.0.0.1:9999/callback#x", false},
		{"http://127.0.0.1:9999/callback#", false},
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
		{"http://127.0.0.1:9999/cb#x", false},
		{"http://127.0.0.1:9999/cb#", false},
		{"http://evil@127.0.0.1/cb", false},
		{"https://user:pw@x.example/cb", false},
		{"http://127.0.0.1:0/cb", false},
		{"http://127.0.0.1:99999/cb", false},
		{"http://127.0.0.1:/cb", false},
		{"http://[::1]:8080/cb", true},
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

// Every address that is not on the public internet is refused, IPv4-mapped
// and embedding forms included.
func TestPublicAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14", true}, {"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"0.0.0.0", false}, {"0.1.2.3", false}, {"100.64.0.1", false},
		{"192.0.0.8", false}, {"192.0.2.1", false}, {"198.18.0.1", false}, {"198.51.100.1", false},
		{"203.0.113.1", false}, {"240.0.0.1", false}, {"255.255.255.255", false}, {"224.0.0.1", false},
		{"::1", false}, {"::", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd12::1", false},
		{"fec0::1", false}, {"ff02::1", false}, {"64:ff9b::a00:1", false}, {"64:ff9b::5db8:d70e", false},
		{"2002:a00:1::1", false}, {"2001:db8::1", false}, {"::ffff:10.0.0.1", false}, {"::ffff:127.0.0.1", false},
		{"::10.0.0.1", false}, {"2001::1", false},
	} {
		if got := isPublic(netip.MustParseAddr(tc.addr)); got != tc.ok {
			t.Errorf("%s: public %v, want %v", tc.addr, got, tc.ok)
		}
	}
}

// What a person sees when a document cannot be fetched says what failed in
// words, never Go's network errors (resolver addresses, dial details).
func TestFetchProblemsInWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Get", URL: "https://x", Err: &net.OpError{Op: "dial", Err: errNotPublic}}, "example.com is not at a public address"},
		{&url.Error{Op: "Get", URL: "https://x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "example.com", Server: "10.0.0.53:53"}}}, "could not find example.com"},
		{&url.Error{Op: "Get", URL: "https://x", Err: context.DeadlineExceeded}, "example.com did not answer in time"},
		{&url.Error{Op: "Get", URL: "https://x", Err: &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 443}, Err: errors.New("connection refused")}}, "could not reach example.com"},
	} {
		got := fetchProblem("example.com", tc.err).Error()
		if got != tc.want || strings.Contains(got, "10.0.0") || strings.Contains(got, "dial") {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}
