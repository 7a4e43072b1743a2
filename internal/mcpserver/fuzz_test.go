package mcpserver

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/graphapi"
	"graphgate/internal/secretbox"
)

func fuzzServer(t testing.TB) (*Server, context.Context) {
	keys, _ := secretbox.ParseKeys("q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=")
	ring, err := secretbox.New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), callCtxKey{}, &toolCall{tool: "list_messages",
		caller: &caller{user: &graphgate.User{ID: 7}}})
	return &Server{d: Deps{Keys: ring, Now: time.Now}, cursors: &memCursors{m: map[string]graphgate.Cursor{}}}, ctx
}

// memCursors keeps cursors in memory, as the store would.
type memCursors struct {
	mu sync.Mutex
	m  map[string]graphgate.Cursor
}

var _ cursorStore = (*memCursors)(nil)

func (c *memCursors) PutCursor(_ context.Context, cur *graphgate.Cursor) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[cur.ID]; !ok {
		c.m[cur.ID] = *cur
	}
	return nil
}

func (c *memCursors) Cursor(_ context.Context, id string) (*graphgate.Cursor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[id]
	if !ok || !time.Now().Before(cur.ExpiresAt) {
		return nil, graphgate.Errorf(graphgate.ENOTFOUND, "No such cursor.")
	}
	return &cur, nil
}

// issue is cursorOf for a page, in tests.
func issue(t testing.TB, s *Server, ctx context.Context, link string) string {
	c, err := s.cursorOf(ctx, link, pageCursorTTL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzCursor: whatever an agent passes as a cursor, only one this tool
// issued to this person is accepted, and it never leaves the person's Graph.
func FuzzCursor(f *testing.F) {
	s, ctx := fuzzServer(f)
	f.Add(issue(f, s, ctx, "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$skip=10&$top=10"))
	f.Add(issue(f, s, ctx, "https://graph.microsoft.com/v1.0/me/messages/.."))
	f.Add("bWUvbWVzc2FnZXM")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA")
	f.Add(".")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		p, err := s.pathOfCursor(ctx, cursor)
		if err != nil {
			return
		}
		if hasDotSegment(p) || strings.Contains(p, "://") || strings.HasPrefix(p, "/") {
			t.Fatalf("accepted a cursor leading to %q", p)
		}
		if again := issue(t, s, ctx, "https://graph.microsoft.com/v1.0/"+p); again != cursor {
			u, _ := url.Parse("https://graph.microsoft.com/v1.0/" + p)
			if u != nil && u.RawQuery == "" && strings.Contains(p, "?") {
				return // an empty query is dropped on the way back
			}
			t.Fatalf("cursor %q accepted but not one graphgate issues (%q)", cursor, again)
		}
	})
}

// FuzzIDs: an id is one path segment below the resource, or refused.
func FuzzIDs(f *testing.F) {
	for _, seed := range []string{"AAMkAGI2THVSAAA=", "..", ".", "%2e%2e", "a/b", `a\b`, "a?b", "a#b", "01BYE5RZ!54927", "a\x00b", ""} {
		f.Add(seed)
	}
	g, _ := graphapi.New("https://graph.microsoft.com", nil, nil, nil)
	f.Fuzz(func(t *testing.T, id string) {
		seg, ok := idSegment(id)
		if !ok {
			return
		}
		u, err := graphapi.Resolve(g, "me/messages/"+seg)
		if err != nil {
			t.Fatalf("an accepted id %q does not resolve: %v", id, err)
		}
		rest, found := strings.CutPrefix(u.EscapedPath(), "/v1.0/me/messages/")
		if !found || strings.Contains(rest, "/") || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("id %q reached %s", id, u)
		}
		if dec, _ := url.PathUnescape(rest); dec != id {
			t.Fatalf("id %q arrived as %q", id, dec)
		}
	})
}

// FuzzItemPath: an item id or a path from the root stays inside the drive.
func FuzzItemPath(f *testing.F) {
	f.Add("", "/Documents/Projects/plan.docx")
	f.Add("", "/a/../b")
	f.Add("", "/%2e%2e/x")
	f.Add("01BYE5RZ", "")
	f.Add("..", "")
	f.Add("", "//")
	g, _ := graphapi.New("https://graph.microsoft.com", nil, nil, nil)
	f.Fuzz(func(t *testing.T, id, path string) {
		p, err := itemPath(id, path)
		if err != nil {
			return
		}
		u, err := graphapi.Resolve(g, p+"/children")
		if err != nil {
			t.Fatalf("accepted (%q, %q) does not resolve: %v", id, path, err)
		}
		if !strings.HasPrefix(u.EscapedPath(), "/v1.0/me/drive/") || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("(%q, %q) reached %s", id, path, u)
		}
	})
}

// FuzzQuoteOData: a value in a $filter stays one string literal.
func FuzzQuoteOData(f *testing.F) {
	for _, seed := range []string{"alex@contoso.test", "o'brien@x.test", "' or 1 eq 1 or '", "''", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := quoteOData(v)
		inner := q[1 : len(q)-1]
		if q[0] != '\'' || q[len(q)-1] != '\'' || strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			t.Fatalf("%q quoted as %q", v, q)
		}
	})
}
