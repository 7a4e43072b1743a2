package graph

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Microsoft Search (POST /search/query), delegated, work and school accounts:
// one searchRequest per call; message, event and driveItem each alone (or
// driveItem with the other SharePoint types); from and size page (size at
// most 25 for message and event); messages and events newest first, files
// by relevance; each hit with its rank, a summary with <c0> highlights and
// the resource in the trimmed shape Search returns.

type searchRequest struct {
	EntityTypes []string `json:"entityTypes"`
	Query       struct {
		QueryString string `json:"queryString"`
	} `json:"query"`
	From int  `json:"from"`
	Size *int `json:"size"`
}

var (
	alone     = []string{"message", "event", "chatMessage", "person"}
	combining = []string{"driveItem", "drive", "list", "listItem", "site", "externalItem"}
)

func (s *Server) searchQuery(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		Requests []searchRequest `json:"requests"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if mb.Owner.Personal() {
		badRequest("BadRequest", "This API is not supported for MSA accounts.").write(w, r)
		return
	}
	if len(in.Requests) != 1 {
		badRequest("BadRequest", "Only one searchRequest is supported at a time.").write(w, r)
		return
	}
	req := in.Requests[0]
	if len(req.EntityTypes) == 0 || strings.TrimSpace(req.Query.QueryString) == "" {
		badRequest("BadRequest", "The entityTypes and the query's queryString are required.").write(w, r)
		return
	}
	for _, t := range req.EntityTypes {
		if !slices.Contains(alone, t) && !slices.Contains(combining, t) {
			badRequest("BadRequest", "Requested value '%s' was not found.", t).write(w, r)
			return
		}
		if len(req.EntityTypes) > 1 && slices.Contains(alone, t) {
			badRequest("BadRequest", "SearchRequest Invalid (Resource type %s can not be combined with other entity types)", t).write(w, r)
			return
		}
	}
	kind := req.EntityTypes[0]
	size := 25
	if req.Size != nil {
		size = *req.Size
	}
	maxSize := 500
	if kind == "message" || kind == "event" {
		maxSize = 25
	}
	if size < 1 || size > maxSize || req.From < 0 {
		badRequest("BadRequest", "Requested size %d is out of range [1, %d], or from is negative.", size, maxSize).write(w, r)
		return
	}
	scopes := map[string][]string{"message": scopesMailRead, "event": scopesCalRead, "driveItem": scopesFileRead}
	need, served := scopes[kind]
	if !served {
		badRequest("BadRequest", "Entity type %s is not searchable in this tenant.", kind).write(w, r)
		return
	}
	if !hasAny(callerOf(r).Scopes, need) {
		WriteError(w, r, http.StatusForbidden, "Forbidden", "Access to "+kind+" requires one of: "+strings.Join(need, ", ")+".")
		return
	}
	terms := strings.Fields(strings.ToLower(strings.Trim(req.Query.QueryString, `"`)))
	var hits []map[string]any
	add := func(text string, resource map[string]any) {
		for _, t := range terms {
			if !strings.Contains(strings.ToLower(text), t) {
				return
			}
		}
		hits = append(hits, map[string]any{"summary": highlight(text, terms), "resource": resource})
	}
	mb.mu.Lock()
	switch kind {
	case "message":
		msgs := make([]*Message, 0, len(mb.messages))
		for _, m := range mb.messages {
			msgs = append(msgs, m)
		}
		slices.SortFunc(msgs, func(a, b *Message) int { return b.ReceivedDateTime.Compare(a.ReceivedDateTime) })
		for _, m := range msgs {
			if m.IsDraft {
				continue
			}
			res := map[string]any{"@odata.type": "#microsoft.graph.message", "id": m.ID, "subject": m.Subject,
				"receivedDateTime": m.ReceivedDateTime, "bodyPreview": m.BodyPreview, "webLink": m.WebLink}
			if m.From != nil {
				res["from"] = map[string]any{"emailAddress": m.From.EmailAddress}
			}
			add(m.Subject+" "+m.BodyPreview+" "+fromText(m), res)
		}
	case "event":
		evs := make([]*Event, 0, len(mb.events))
		for _, e := range mb.events {
			evs = append(evs, e)
		}
		slices.SortFunc(evs, func(a, b *Event) int { return b.Start.Compare(a.Start) })
		for _, e := range evs {
			add(e.Subject+" "+e.Location+" "+e.Body.Content, map[string]any{"@odata.type": "#microsoft.graph.event", "id": e.ID,
				"subject": e.Subject, "start": DateTimeTimeZone{DateTime: e.Start.UTC().Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"},
				"end":      DateTimeTimeZone{DateTime: e.End.UTC().Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"},
				"location": map[string]string{"displayName": e.Location}, "organizer": e.Organizer})
		}
	case "driveItem":
		d := mb.drive
		for _, it := range d.items {
			if it == d.root {
				continue
			}
			text := it.Name
			if !it.IsFolder && it.size <= 1<<20 && strings.HasPrefix(it.MimeType, "text/") {
				text += " " + string(it.Content()) // Search indexes small text files' words too
			}
			add(text, map[string]any{"@odata.type": "#microsoft.graph.driveItem", "id": it.ID, "name": it.Name,
				"size": it.size, "lastModifiedDateTime": it.Modified.UTC().Format(time.RFC3339),
				"webUrl":          "https://contoso-my.sharepoint.test/personal/" + d.pathOf(it),
				"parentReference": map[string]any{"driveId": d.ID, "id": it.ParentID}})
		}
		// Relevance: a name match first.
		slices.SortStableFunc(hits, func(a, b map[string]any) int {
			an := strings.Contains(strings.ToLower(a["resource"].(map[string]any)["name"].(string)), terms[0])
			bn := strings.Contains(strings.ToLower(b["resource"].(map[string]any)["name"].(string)), terms[0])
			switch {
			case an && !bn:
				return -1
			case bn && !an:
				return 1
			}
			return 0
		})
	}
	mb.mu.Unlock()
	total := len(hits)
	from := min(req.From, total)
	hits = hits[from:min(total, from+size)]
	for i, h := range hits {
		h["hitId"] = h["resource"].(map[string]any)["id"]
		h["rank"] = from + i + 1
	}
	container := map[string]any{"hits": nonNilMaps(hits), "total": total, "moreResultsAvailable": from+len(hits) < total}
	if kind == "message" {
		container["total"] = len(hits) // Search counts only this page's message hits
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": baseURL(r) + "/v1.0/$metadata#Collection(microsoft.graph.searchResponse)",
		"value":          []any{map[string]any{"searchTerms": terms, "hitsContainers": []any{container}}},
	})
}

// highlight is Search's summary: the text around the first term, terms
// wrapped in <c0>…</c0>, cut with <ddd/>.
func highlight(text string, terms []string) string {
	lower := strings.ToLower(text)
	at := 0
	if len(terms) > 0 {
		at = max(0, strings.Index(lower, terms[0])-40)
	}
	end := min(len(text), at+160)
	for at > 0 && at < len(text) && text[at]&0xC0 == 0x80 {
		at--
	}
	for end < len(text) && text[end]&0xC0 == 0x80 {
		end++
	}
	out := text[at:end]
	for _, t := range terms {
		if i := strings.Index(strings.ToLower(out), t); i >= 0 {
			out = out[:i] + "<c0>" + out[i:i+len(t)] + "</c0>" + out[i+len(t):]
		}
	}
	if end < len(text) {
		out += " <ddd/>"
	}
	return out
}
