package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

// list_changes follows a Graph delta query. Graph's deltaLink becomes a
// cursor like any other (relative, bound to this tool and this person), so
// an agent can keep it between conversations and ask "what changed since".
// When Graph has lost the state behind a deltaLink (410 resyncRequired),
// the tool starts again from the current state and says so, as Graph asks
// delta clients to.

type listChangesIn struct {
	Source   string `json:"source" jsonschema:"what to watch: files (OneDrive)"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor or changes_cursor from an earlier call; leave out to start with the current state"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"changes per page, 1 to 200; default 100" bounds:"1,200"`
}

// ChangeOut is one changed item: changed (new or updated, with its current
// details) or removed (the id only: Graph no longer has the rest).
type ChangeOut struct {
	Change string `json:"change" jsonschema:"changed (new or updated) or removed"`
	ItemOut
}

type changesOut struct {
	Changes       []ChangeOut `json:"changes"`
	Count         int         `json:"count"`
	NextCursor    string      `json:"next_cursor,omitempty" jsonschema:"more changes of this round: pass as cursor now"`
	ChangesCursor string      `json:"changes_cursor,omitempty" jsonschema:"the round is complete: keep it and pass it as cursor later to get what changed since"`
	Restarted     bool        `json:"restarted,omitempty" jsonschema:"the earlier cursor had expired, so this is the full current state again"`
	Note          string      `json:"note,omitempty"`
}

// gDeltaItem is a drive item in a delta answer, which may be a removal.
type gDeltaItem struct {
	gItem
	Deleted *struct {
		State string `json:"state"`
	} `json:"deleted"`
	Root *struct{} `json:"root"`
}

func listChangesTool() toolDef {
	return define("files", &mcp.Tool{
		Name:  "list_changes",
		Title: "List changes",
		Description: "Lists what changed in OneDrive since an earlier call (files and folders new, updated or removed). " +
			"The first call, without cursor, returns the current state and a changes_cursor; pass that cursor later to get only what changed since. " +
			"If next_cursor is set, pass it now for the rest of the round.",
		Annotations: annotations("List changes", true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listChangesIn) (changesOut, error) {
		if in.Source != "files" {
			return changesOut{}, invalid("source must be files (OneDrive); changes in mail and calendar are not offered yet")
		}
		size, err := pageSize(in.PageSize, 100, 200)
		if err != nil {
			return changesOut{}, err
		}
		start := graphapi.Request{Method: "GET", Path: "me/drive/root/delta", Safe: true,
			Query: url.Values{"$top": {fmt.Sprint(size)}, "$select": {itemFields + ",deleted,root"}}}
		req := start
		if in.Cursor != "" {
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return changesOut{}, err
			}
			req.Query = nil
		}
		out, err := s.driveDelta(ctx, g, req)
		var ge *graphapi.Error
		if in.Cursor != "" && errors.As(err, &ge) && ge.Status == http.StatusGone {
			out, err = s.driveDelta(ctx, g, start)
			out.Restarted = true
			out.Note = "OneDrive could no longer say what changed since that cursor, so this is the full current state again; compare it with what you know"
		}
		return out, err
	})
}

func (s *Server) driveDelta(ctx context.Context, g *graphapi.Client, req graphapi.Request) (changesOut, error) {
	var res struct {
		Value []gDeltaItem `json:"value"`
		Next  string       `json:"@odata.nextLink"`
		Delta string       `json:"@odata.deltaLink"`
	}
	if _, err := g.Do(ctx, req, &res); err != nil {
		return changesOut{}, err
	}
	out := changesOut{Changes: []ChangeOut{}, NextCursor: s.cursorOf(ctx, res.Next), ChangesCursor: s.cursorOf(ctx, res.Delta)}
	for _, it := range res.Value {
		switch {
		case it.Root != nil:
			// The root itself is not a change anyone asks about.
		case it.Deleted != nil:
			out.Changes = append(out.Changes, ChangeOut{Change: "removed", ItemOut: ItemOut{ID: it.ID}})
		default:
			out.Changes = append(out.Changes, ChangeOut{Change: "changed", ItemOut: toItem(it.gItem)})
		}
	}
	out.Count = len(out.Changes)
	return out, nil
}
