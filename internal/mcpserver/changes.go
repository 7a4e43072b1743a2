package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

// list_changes follows a Graph delta query: a mail folder's messages, the
// calendar in a window, or OneDrive. Graph's deltaLink becomes a cursor
// like any other (relative, bound to this person and to this tool with its
// source), so an agent can keep it between conversations and ask "what
// changed since". When Graph has lost the state behind a deltaLink (410),
// the tool starts again from the current state and says so, as Graph asks
// delta clients to.
//
// With the shared_mailboxes capability, mail changes of a shared mailbox
// too: the path, and so the cursor, names the mailbox.
//
// One tool serves three toolsets: a token sees it when it may read any of
// them, and each call checks the toolset of its source.

type listChangesIn struct {
	inMailbox
	inLibrary
	Source   string `json:"source" jsonschema:"what to watch: mail (one folder), calendar (a time window) or files (OneDrive)"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor or changes_cursor from an earlier call with the same source; leave out to start with the current state"`
	Folder   string `json:"folder,omitempty" jsonschema:"mail: folder id or well-known name; default inbox"`
	Start    string `json:"start,omitempty" jsonschema:"calendar: window start; default now. The window is kept by the cursor"`
	End      string `json:"end,omitempty" jsonschema:"calendar: window end; default 7 days after the start; at most 31 days after it"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"changes per page, 1 to 200; default 50" bounds:"1,200"`
}

// otherPlace merges both places list_changes may watch: a shared
// mailbox's folder, a SharePoint library.
func (in listChangesIn) otherPlace() map[string]string {
	m := in.inMailbox.otherPlace()
	maps.Copy(m, in.inLibrary.otherPlace())
	return m
}

// ChangeOut is one change: the item as it is now, or only the id of an
// item that was removed (or, for mail, moved out of the folder).
type ChangeOut struct {
	Change  string          `json:"change" jsonschema:"changed (new or updated) or removed"`
	ID      string          `json:"id"`
	Message *MessageSummary `json:"message,omitempty"`
	Event   *EventOut       `json:"event,omitempty"`
	File    *ItemOut        `json:"file,omitempty"`
}

type changesOut struct {
	Source        string      `json:"source"`
	Changes       []ChangeOut `json:"changes"`
	Count         int         `json:"count"`
	NextCursor    string      `json:"next_cursor,omitempty" jsonschema:"more changes of this round: pass as cursor now"`
	ChangesCursor string      `json:"changes_cursor,omitempty" jsonschema:"the round is complete: pass it as cursor later for what changed since"`
	Restarted     bool        `json:"restarted,omitempty" jsonschema:"the earlier cursor had expired: this is the whole state again"`
	Note          string      `json:"note,omitempty"`
}

// Text is one line per change and what to pass next.
func (o changesOut) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s changes", o.Count, o.Source)
	if o.Note != "" {
		b.WriteString("; " + o.Note)
	}
	b.WriteByte('\n')
	for _, c := range o.Changes {
		var item reflect.Value
		switch {
		case c.Message != nil:
			// As list_messages shows it: id | received | from | subject | flags | preview.
			fmt.Fprintf(&b, "- %s %s\n", c.Change, messageLine(*c.Message))
			continue
		case c.Event != nil:
			item = reflect.ValueOf(*c.Event)
		case c.File != nil:
			item = reflect.ValueOf(*c.File)
		default:
			fmt.Fprintf(&b, "- %s id=%s\n", c.Change, c.ID)
			continue
		}
		fmt.Fprintf(&b, "- %s %s\n", c.Change, inline(item))
	}
	switch {
	case o.NextCursor != "":
		fmt.Fprintf(&b, "more: pass cursor=%q now", o.NextCursor)
	case o.ChangesCursor != "":
		fmt.Fprintf(&b, "later, for what changed since: pass cursor=%q", o.ChangesCursor)
	}
	return b.String()
}

// changeSource is one kind of delta: its toolset, the request that starts
// a round, and how to read its items.
type changeSource struct {
	toolset string
	path    string // the delta path a cursor of this source must continue
	start   func(ctx context.Context, s *Server, g *graphapi.Client, in listChangesIn, size int) (graphapi.Request, error)
	header  func(ctx context.Context, s *Server, g *graphapi.Client, size int) (map[string][]string, *time.Location, string, error)
	item    func(raw json.RawMessage, loc *time.Location, zone string) (ChangeOut, error)
}

// deltaMarks are what says an item of a delta answer is a removal (Outlook
// marks them with @removed, OneDrive with a deleted facet) or the drive's
// root.
type deltaMarks struct {
	ID      string    `json:"id"`
	Removed *struct{} `json:"@removed"`
	Deleted *struct{} `json:"deleted"`
	Root    *struct{} `json:"root"`
}

// decodeAs reads a delta item as its source's type.
func decodeAs[T any](raw json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

func maxPageSize(size int) map[string][]string {
	return map[string][]string{"Prefer": {fmt.Sprintf("odata.maxpagesize=%d", size)}}
}

var changeSources = map[string]changeSource{
	"mail": {
		toolset: "mail", path: "me/mailFolders/",
		start: func(_ context.Context, _ *Server, _ *graphapi.Client, in listChangesIn, _ int) (graphapi.Request, error) {
			folder := in.Folder
			if folder == "" {
				folder = "inbox"
			}
			seg, ok := idSegment(folder)
			if !ok {
				return graphapi.Request{}, invalid("folder must be a folder id or a well-known name")
			}
			return graphapi.Request{Path: "me/mailFolders/" + seg + "/messages/delta", Query: url.Values{"$select": {summaryFields}}}, nil
		},
		header: func(_ context.Context, _ *Server, _ *graphapi.Client, size int) (map[string][]string, *time.Location, string, error) {
			return maxPageSize(size), nil, "", nil
		},
		item: func(raw json.RawMessage, _ *time.Location, _ string) (ChangeOut, error) {
			g, err := decodeAs[gMessage](raw)
			m := summarize(g)
			return ChangeOut{Change: "changed", ID: m.ID, Message: &m}, err
		},
	},
	"calendar": {
		toolset: "calendar", path: "me/calendarView/delta",
		start: func(_ context.Context, s *Server, _ *graphapi.Client, in listChangesIn, _ int) (graphapi.Request, error) {
			start, end, err := s.window(in.Start, in.End, 31)
			if err != nil {
				return graphapi.Request{}, err
			}
			return graphapi.Request{Path: "me/calendarView/delta", Query: url.Values{
				"startDateTime": {start.UTC().Format(time.RFC3339)}, "endDateTime": {end.UTC().Format(time.RFC3339)}}}, nil
		},
		header: func(ctx context.Context, s *Server, g *graphapi.Client, size int) (map[string][]string, *time.Location, string, error) {
			loc, zone, err := s.zoneOf(ctx, g, "")
			if err != nil {
				return nil, nil, "", err
			}
			h := maxPageSize(size)
			h["Prefer"] = append(h["Prefer"], `outlook.timezone="`+zone+`"`)
			return h, loc, zone, nil
		},
		item: func(raw json.RawMessage, loc *time.Location, zone string) (ChangeOut, error) {
			g, err := decodeAs[gEvent](raw)
			e := toEvent(g, loc, zone)
			return ChangeOut{Change: "changed", ID: e.ID, Event: &e}, err
		},
	},
	"files": {
		toolset: "files", path: "me/drive/root/delta",
		start: func(_ context.Context, _ *Server, _ *graphapi.Client, _ listChangesIn, size int) (graphapi.Request, error) {
			return graphapi.Request{Path: "me/drive/root/delta", Query: url.Values{"$top": {fmt.Sprint(size)}, "$select": {itemFields + ",deleted,root"}}}, nil
		},
		header: func(context.Context, *Server, *graphapi.Client, int) (map[string][]string, *time.Location, string, error) {
			return nil, nil, "", nil
		},
		item: func(raw json.RawMessage, _ *time.Location, _ string) (ChangeOut, error) {
			g, err := decodeAs[gItem](raw)
			f := toItem(g)
			return ChangeOut{Change: "changed", ID: f.ID, File: &f}, err
		},
	},
}

func listChangesTool() toolDef {
	d := define("files", &mcp.Tool{
		Name:  "list_changes",
		Title: "List changes",
		Description: "Lists what changed since an earlier call in a mail folder (new, updated, removed messages), the calendar in a window, " +
			"or OneDrive. The first call returns the current state and a changes_cursor: pass it later, with the same source, for what changed since. " +
			"Pass next_cursor, when set, at once for the rest of the round.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listChangesIn) (changesOut, error) {
		src, ok := changeSources[in.Source]
		if !ok {
			return changesOut{}, invalid("source must be mail, calendar or files")
		}
		call := callFromContext(ctx)
		if call.caller == nil || !call.caller.access.Allows(src.toolset, false) {
			return changesOut{}, invalid("this token may not read " + src.toolset + "; ask for a token that includes it")
		}
		if in.Mailbox != "" && in.Source != "mail" {
			return changesOut{}, invalid("mailbox goes with source mail only")
		}
		if (in.Site != "" || in.Drive != "") && in.Source != "files" {
			return changesOut{}, invalid("site and drive go with source files only")
		}
		// A cursor continues only the source that issued it (and the
		// mailbox or library: its path names it).
		call.cursorScope = "list_changes " + in.Source
		size, err := pageSize(in.PageSize, 50, 200)
		if err != nil {
			return changesOut{}, err
		}
		header, loc, zone, err := src.header(ctx, s, g, size)
		if err != nil {
			return changesOut{}, err
		}
		first, err := src.start(ctx, s, g, in, size)
		if err != nil {
			return changesOut{}, err
		}
		first.Method, first.Safe, first.Header = "GET", true, header
		req := first
		if in.Cursor != "" {
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return changesOut{}, err
			}
			if !under(req.Path, g.Routed(src.path)) || !strings.Contains(req.Path, "delta") {
				return changesOut{}, errBadCursor
			}
			req.Query = nil
		}
		out, err := s.delta(ctx, g, req, src, loc, zone)
		var ge *graphapi.Error
		if in.Cursor != "" && errors.As(err, &ge) && ge.Status == http.StatusGone {
			out, err = s.delta(ctx, g, first, src, loc, zone)
			out.Restarted = true
			out.Note = "Microsoft 365 could no longer say what changed since that cursor, so this is the full current state again; compare it with what you know"
		}
		out.Source = in.Source
		return out, err
	})
	d.also = []string{"mail", "calendar"}
	return d
}

// delta reads one page of a delta round.
func (s *Server) delta(ctx context.Context, g *graphapi.Client, req graphapi.Request, src changeSource, loc *time.Location, zone string) (changesOut, error) {
	var res struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
		Delta string            `json:"@odata.deltaLink"`
	}
	if _, err := g.Do(ctx, req, &res); err != nil {
		return changesOut{}, err
	}
	next, err := s.cursorOf(ctx, res.Next, deltaCursorTTL)
	if err != nil {
		return changesOut{}, err
	}
	later, err := s.cursorOf(ctx, res.Delta, deltaCursorTTL)
	if err != nil {
		return changesOut{}, err
	}
	out := changesOut{Changes: []ChangeOut{}, NextCursor: next, ChangesCursor: later}
	for _, raw := range res.Value {
		marks, err := decodeAs[deltaMarks](raw)
		if err != nil {
			return changesOut{}, fmt.Errorf("an unreadable change: %w", err)
		}
		switch {
		case marks.Root != nil:
			// The drive's root is not a change anyone asks about.
		case marks.Removed != nil || marks.Deleted != nil:
			out.Changes = append(out.Changes, ChangeOut{Change: "removed", ID: marks.ID})
		default:
			c, err := src.item(raw, loc, zone)
			if err != nil {
				return changesOut{}, fmt.Errorf("an unreadable change: %w", err)
			}
			out.Changes = append(out.Changes, c)
		}
	}
	out.Count = len(out.Changes)
	return out, nil
}
