package oauthserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"graphgate"
	"graphgate/internal/oneline"
)

// Client is an MCP client as the consent page shows it and the endpoints
// check it: from its Client ID Metadata Document, or its registration.
type Client struct {
	ID           string
	Name         string
	LogoURI      string
	ClientURI    string
	RedirectURIs []string
	// Metadata is true for a client identified by a metadata document URL.
	Metadata bool
}

// maxMetadata bounds a client metadata document.
const maxMetadata = 64 << 10

// ErrUnknownClient is a client_id graphgate cannot resolve to a client.
var ErrUnknownClient = errors.New("unknown client")

// client resolves a client_id: an https URL is a Client ID Metadata
// Document to fetch (cached as its Cache-Control allows); anything else
// must be a registration.
func (s *Server) client(ctx context.Context, id string) (*Client, error) {
	if strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://") {
		return s.metadataClient(ctx, id)
	}
	if len(id) > 200 {
		return nil, ErrUnknownClient
	}
	c, err := s.d.Store.OAuthClient(ctx, id)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return nil, ErrUnknownClient
	}
	if err != nil {
		return nil, err
	}
	return &Client{ID: c.ID, Name: c.Name, LogoURI: c.LogoURI, ClientURI: c.ClientURI, RedirectURIs: c.RedirectURIs}, nil
}

// cached is a fetched metadata document and how long it may be reused.
type cached struct {
	client  *Client
	err     error
	expires time.Time
}

// metadataCache keeps fetched client metadata documents.
type metadataCache struct {
	mu sync.Mutex
	m  map[string]cached
}

func (s *Server) metadataClient(ctx context.Context, id string) (*Client, error) {
	settings, err := s.d.Store.OAuthSettings(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.checkMetadataURL(id, settings.ClientHosts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownClient, err)
	}
	s.cache.mu.Lock()
	if c, ok := s.cache.m[id]; ok && s.d.Now().Before(c.expires) {
		s.cache.mu.Unlock()
		return c.client, c.err
	}
	s.cache.mu.Unlock()
	c, ttl, err := s.fetchMetadata(ctx, u)
	if err != nil {
		err = fmt.Errorf("%w: %v", ErrUnknownClient, err)
		ttl = time.Minute // do not fetch a broken document on every request
	}
	s.cache.mu.Lock()
	if len(s.cache.m) > 1000 {
		clear(s.cache.m)
	}
	if ttl > 0 {
		s.cache.m[id] = cached{client: c, err: err, expires: s.d.Now().Add(ttl)}
	}
	s.cache.mu.Unlock()
	return c, err
}

// checkMetadataURL accepts an https URL with a path, no credentials, query
// or fragment, on an allowed host; plain http only for loopback when
// private addresses are allowed (development).
func (s *Server) checkMetadataURL(raw string, hosts []string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.RawQuery != "":
		return nil, errors.New("a client_id URL must be an absolute https URL without credentials, query or fragment")
	case u.Path == "" || u.Path == "/" || strings.Contains(u.Path, "/.") || len(raw) > 1000:
		return nil, errors.New("a client_id URL must name a document (a path)")
	case u.Scheme != "https" && !(u.Scheme == "http" && s.d.AllowPrivateClients && isLoopbackHost(u.Hostname())):
		return nil, errors.New("a client_id URL must use https")
	case len(hosts) > 0 && !slices.Contains(hosts, strings.ToLower(u.Hostname())):
		return nil, fmt.Errorf("clients from %s are not allowed here", u.Hostname())
	}
	return u, nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// fetchMetadata gets and checks a client metadata document.
func (s *Server) fetchMetadata(ctx context.Context, u *url.URL) (*Client, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.fetch.Do(req)
	if err != nil {
		// The detail (addresses, resolvers, TLS) is for the log: the page
		// a signed-in person sees says what failed in words.
		s.d.Log.Info("fetching a client metadata document failed", "url", u.String(), "err", err)
		return nil, 0, fetchProblem(u.Hostname(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("the client metadata answered %d", resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, 0, fmt.Errorf("the client metadata is %q, not application/json", mt)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxMetadata {
		return nil, 0, errors.New("the client metadata is over 64 KiB")
	}
	var doc struct {
		ClientID     string   `json:"client_id"`
		ClientName   string   `json:"client_name"`
		ClientURI    string   `json:"client_uri"`
		LogoURI      string   `json:"logo_uri"`
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("the client metadata is not JSON: %w", err)
	}
	switch {
	case doc.ClientID != u.String():
		return nil, 0, errors.New("the client metadata's client_id is not its own URL")
	case doc.AuthMethod != "" && doc.AuthMethod != "none":
		return nil, 0, errors.New("only public clients (token_endpoint_auth_method none) are supported")
	}
	if strings.ContainsFunc(doc.ClientName, oneline.Hidden) {
		return nil, 0, errors.New("the client metadata's client_name has control or direction characters")
	}
	c := &Client{ID: doc.ClientID, Name: cleanName(doc.ClientName, u.Hostname()), ClientURI: httpsOrEmpty(doc.ClientURI),
		LogoURI: httpsOrEmpty(doc.LogoURI), Metadata: true}
	if c.RedirectURIs, err = checkRedirectURIs(doc.RedirectURIs); err != nil {
		return nil, 0, err
	}
	return c, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL reads how long a document may be reused: max-age, at most a
// day; five minutes when the server says nothing; not at all for no-store.
func cacheTTL(cc string) time.Duration {
	ttl := 5 * time.Minute
	for d := range strings.SplitSeq(strings.ToLower(cc), ",") {
		d = strings.TrimSpace(d)
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age=")); err == nil && n >= 0 {
				ttl = min(time.Duration(n)*time.Second, 24*time.Hour)
			}
		}
	}
	return ttl
}

// fetchProblem says in words why a metadata document could not be had.
func fetchProblem(host string, err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errNotPublic):
		return fmt.Errorf("%s is not at a public address", host)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("could not find %s", host)
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return fmt.Errorf("%s did not answer in time", host)
	case strings.Contains(err.Error(), "redirect"):
		return fmt.Errorf("%s redirected the client metadata request, which is not allowed", host)
	}
	return fmt.Errorf("could not reach %s", host)
}

var errNotPublic = errors.New("not a public address")

// publicOnly refuses connections to every address that is not global
// unicast on the public internet (private, loopback, link-local, shared,
// documentation, benchmarking, reserved, and the IPv6 forms that embed
// IPv4 addresses), after DNS resolution and for every connection, so a
// metadata URL cannot be used to reach internal services, also not by a
// name that resolves differently later.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if !isPublic(a) {
		return errNotPublic
	}
	return nil
}

// isPublic reports whether a is a global unicast address outside every
// special-purpose range (IANA's IPv4 and IPv6 special-purpose registries).
func isPublic(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range specialPurpose {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var specialPurpose = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
		"3fff::/20", "5f00::/16", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// newFetcher is the HTTP client for metadata documents: no redirects (a
// redirect would change whose document it is), public addresses only
// unless allowed.
func newFetcher(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = publicOnly
	}
	return &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConnsPerHost: 4, ResponseHeaderTimeout: 5 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("client metadata must not redirect") },
	}
}

func cleanName(name, fallback string) string {
	name = oneline.Clean(name)
	if name == "" {
		return fallback
	}
	if r := []rune(name); len(r) > 80 {
		name = string(r[:80]) + "…"
	}
	return name
}

func httpsOrEmpty(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "https" && u.Host != "" && len(raw) < 1000 {
		return raw
	}
	return ""
}

// checkRedirectURIs accepts https URLs, http on loopback (native apps, any
// port later), and private-use schemes of native apps (cursor://...,
// com.example.app:/cb); never javascript:, data:, file: or plain http
// elsewhere.
func checkRedirectURIs(uris []string) ([]string, error) {
	if len(uris) == 0 || len(uris) > 20 {
		return nil, errors.New("give 1 to 20 redirect_uris")
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		switch {
		case err != nil || strings.Contains(raw, "#") || len(raw) > 1000 || u.Scheme == "":
			return nil, fmt.Errorf("redirect URI %q is not an absolute URL without a fragment", raw)
		case (u.Scheme == "http" || u.Scheme == "https") && !goodAuthority(u):
			return nil, fmt.Errorf("redirect URI %q has credentials or a bad port", raw)
		case u.Scheme == "https" && u.Host != "":
		case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		case u.Scheme == "http", u.Scheme == "https", slices.Contains([]string{"javascript", "data", "file", "blob", "vbscript", "about", "ftp", "ws", "wss"}, strings.ToLower(u.Scheme)):
			return nil, fmt.Errorf("redirect URI %q is not allowed: use https, http on loopback, or an app's own scheme", raw)
		}
	}
	return uris, nil
}

// goodAuthority reports whether an http(s) URL's authority is a host with,
// at most, a port from 1 to 65535: no credentials (http://evil@127.0.0.1/),
// no empty port (127.0.0.1:), no port 0 or 99999.
func goodAuthority(u *url.URL) bool {
	if u.User != nil || u.Hostname() == "" || strings.ContainsAny(u.Host, "@") {
		return false
	}
	if strings.HasSuffix(u.Host, ":") {
		return false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		return err == nil && n >= 1 && n <= 65535 && p[0] != '0'
	}
	return true
}

// redirectMatches compares a requested redirect URI with a client's
// registered ones exactly, except that a loopback http one matches on any
// port (RFC 8252 section 7.3: native apps listen on a port of the moment).
func redirectMatches(registered []string, requested string) bool {
	if slices.Contains(registered, requested) {
		return true
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopbackHost(req.Hostname()) || !goodAuthority(req) || strings.Contains(requested, "#") {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err == nil && reg.Scheme == "http" && reg.Hostname() == req.Hostname() && reg.Path == req.Path && reg.RawQuery == req.RawQuery {
			return true
		}
	}
	return false
}
