// Package apptest starts a whole graphgate on a loopback port for tests,
// with a fresh database and a first admin, and gives tests a browser-like
// HTTP client.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"graphgate/internal/app"
	"graphgate/internal/config"
)

// Admin credentials of every test server.
const (
	AdminEmail    = "admin@contoso.test"
	AdminPassword = "correct-horse-battery"
)

// Server is a running graphgate.
type Server struct {
	URL string
	App *app.App
	t   testing.TB
}

// Start runs graphgate with env on top of a test configuration.
func Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	vars := map[string]string{
		"GRAPHGATE_DATA_DIR":       t.TempDir(),
		"GRAPHGATE_BASE_URL":       base,
		"GRAPHGATE_ADMIN_EMAIL":    AdminEmail,
		"GRAPHGATE_ADMIN_PASSWORD": AdminPassword,
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Web.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &Server{URL: base, App: a, t: t}
}

// DataDir is the server's data folder.
func (s *Server) DataDir() string { return s.App.Config.DataDir }

// SQLitePath is the database file when the server runs on SQLite.
func (s *Server) SQLitePath() string { return filepath.Join(s.DataDir(), "graphgate.db") }

// Client is a browser-like client: it keeps cookies and does not follow
// redirects, so tests see where each answer points.
type Client struct {
	t    testing.TB
	base string
	HTTP *http.Client
	// Header is sent with every request (X-Forwarded-For, say).
	Header http.Header
	last   string // the last page body, where forms' CSRF tokens come from
}

// NewClient returns a client with an empty cookie jar.
func (s *Server) NewClient() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: s.t, base: s.URL, HTTP: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Base is the URL the client talks to.
func (c *Client) Base() string { return c.base }

// Response is a read answer.
type Response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (c *Client) do(req *http.Request) Response {
	c.t.Helper()
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.last = string(b)
	return Response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// Get fetches a path.
func (c *Client) Get(path string) Response {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF is the token in the last page fetched.
func (c *Client) CSRF() string {
	m := csrfRE.FindStringSubmatch(c.last)
	if m == nil {
		return ""
	}
	return m[1]
}

// Post submits a form with the CSRF token of the last page fetched.
func (c *Client) Post(path string, form url.Values) Response {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.CSRF())
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// Do sends an arbitrary request (for the JSON API).
func (c *Client) Do(method, path, body string, header ...string) Response {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// SignIn signs in and fails the test unless it worked.
func (c *Client) SignIn(email, password string) Response {
	c.t.Helper()
	c.Get("/login")
	r := c.Post("/login", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %d\n%s", email, r.Status, r.Body)
	}
	return r
}

// PostgresURL returns the test PostgreSQL server's URL, or "".
func PostgresURL() string { return os.Getenv("GRAPHGATE_TEST_POSTGRES_URL") }
