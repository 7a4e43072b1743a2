package mcpserver

import (
	"context"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"graphgate"
	"graphgate/internal/secretbox"
)

// Cursors are Graph's nextLinks and deltaLinks made short, opaque and
// bound. The link itself is kept in the store (sealed), under an id that is
// the MAC of the tool, the person and the link's path under the keyring
// every replica shares; the cursor an agent holds is that id, 22
// characters, however long Microsoft's paging and delta tokens grow. Bound:
// resuming looks the id up and checks that it is the MAC of this tool,
// this person and the stored path, so a cursor continues only the listing
// that issued it, on any replica. Without the binding, a token limited to
// the calendar could hand list_events another listing's cursor and read
// mail. Relative: the stored path carries no host, so it can only be
// followed inside the configured Graph URL.

const (
	cursorPurpose = "mcp cursor v1"
	cursorIDSize  = secretbox.MinMAC
	// pageCursorTTL keeps a next page for a day; deltaCursorTTL keeps a
	// list_changes cursor, which agents hold for later, for a month.
	pageCursorTTL  = 24 * time.Hour
	deltaCursorTTL = 30 * 24 * time.Hour
)

var errBadCursor = invalid("the cursor is not valid for this tool (or has expired): pass back exactly the next_cursor the previous call of the same tool returned, or leave cursor out to start again")

// cursorStore is where cursors are kept: the Store.
type cursorStore interface {
	PutCursor(ctx context.Context, c *graphgate.Cursor) error
	Cursor(ctx context.Context, id string) (*graphgate.Cursor, error)
}

// keptCursors remembers the cursors this replica stored lately, so that a
// listing read again and again (the same first page) writes nothing new.
type keptCursors struct {
	mu sync.Mutex
	m  map[string]time.Time // id -> until when it is surely kept
}

func (k *keptCursors) has(id string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	until, ok := k.m[id]
	return ok && now.Before(until)
}

func (k *keptCursors) add(id string, until time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) > 10000 {
		k.m = map[string]time.Time{}
	}
	k.m[id] = until
}

// cursorOf turns a next or delta link into a cursor for the tool being
// run, kept for ttl.
func (s *Server) cursorOf(ctx context.Context, link string, ttl time.Duration) (string, error) {
	rel := relativeLink(link)
	if rel == "" {
		return "", nil
	}
	return s.cursorOfPath(ctx, rel, ttl)
}

// relativeLink is a Graph next or delta link relative to /v1.0/ (path and
// query), "" for none or one that is not Graph's.
func relativeLink(link string) string {
	u, err := url.Parse(link)
	if link == "" || err != nil {
		return ""
	}
	i := strings.Index(u.Path, "/v1.0/")
	if i < 0 {
		return ""
	}
	rel := u.Path[i+len("/v1.0/"):]
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel
}

// cursorOfPath keeps a relative Graph path (or a tool's own state in that
// form) as a cursor for the tool being run, for ttl.
func (s *Server) cursorOfPath(ctx context.Context, rel string, ttl time.Duration) (string, error) {
	id := base64.RawURLEncoding.EncodeToString(s.d.Keys.MAC(cursorPurpose, cursorSubject(ctx, rel))[:cursorIDSize])
	now := s.d.Now()
	// Half the time to live: a cursor handed out is always kept at least
	// as long as promised.
	if s.kept.has(id, now.Add(ttl/2)) {
		return id, nil
	}
	if err := s.cursors.PutCursor(ctx, &graphgate.Cursor{ID: id, UserID: callerID(ctx), Path: rel, ExpiresAt: now.Add(ttl)}); err != nil {
		return "", err
	}
	s.kept.add(id, now.Add(ttl))
	return id, nil
}

// pathOfCursor returns the Graph path a cursor continues, refusing any
// cursor this tool did not issue to this person.
func (s *Server) pathOfCursor(ctx context.Context, cursor string) (string, error) {
	// One spelling: strict base64url of exactly cursorIDSize bytes.
	id, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(id) != cursorIDSize || strings.ContainsAny(cursor, "\r\n") {
		return "", errBadCursor
	}
	c, err := s.cursors.Cursor(ctx, cursor)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return "", errBadCursor
	case err != nil:
		return "", err
	case c.UserID != callerID(ctx) || !s.d.Keys.VerifyMAC(cursorPurpose, cursorSubject(ctx, c.Path), id):
		return "", errBadCursor
	}
	if strings.Contains(c.Path, "://") || strings.HasPrefix(c.Path, "/") || hasDotSegment(c.Path) {
		return "", errBadCursor
	}
	// A listing of another mailbox or a library goes on only while the
	// capability that opened it still does (turned off, its cursors stop
	// too).
	tc := callFromContext(ctx)
	if param, elsewhere := placeParam(tc.tool, c.Path); elsewhere && (tc.caller == nil || !tc.caller.reach.OpensParam(tc.tool, param)) {
		return "", tell("That cursor lists a shared mailbox or a SharePoint library, which this person's agents may no longer open. Start the listing again.")
	}
	return c.Path, nil
}

// under reports whether a cursor's path lies under base, compared
// unescaped: Graph's links spell ids (a library's "b!…") as they are,
// where graphgate's own paths escape them.
func under(p, base string) bool {
	up, err1 := url.PathUnescape(p)
	ub, err2 := url.PathUnescape(base)
	return err1 == nil && err2 == nil && strings.HasPrefix(up, ub)
}

// callerID is the person a tool runs for, 0 outside a call.
func callerID(ctx context.Context) int64 {
	if tc := callFromContext(ctx); tc.caller != nil {
		return tc.caller.user.ID
	}
	return 0
}

// cursorSubject is what a cursor's id covers: the tool, the person, the path.
func cursorSubject(ctx context.Context, path string) []byte {
	tc := callFromContext(ctx)
	scope := tc.tool
	if tc.cursorScope != "" {
		scope = tc.cursorScope
	}
	return []byte(scope + "\x00" + strconv.FormatInt(callerID(ctx), 10) + "\x00" + path)
}
