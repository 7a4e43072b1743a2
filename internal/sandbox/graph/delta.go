package graph

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Delta for Outlook messages and calendar views. Each round compares two
// snapshots of the scope (item id to change key): the one its $deltatoken
// names, and one taken when the round starts. The round's pages are the
// difference of those two snapshots, so paging is stable while the
// mailbox changes, and whatever changes during a round shows in the next.
// A mailbox keeps its last maxDeltaStates snapshots; an older token, or
// one from another scope, answers 410 as Graph does when it has lost the
// sync state.

const maxDeltaStates = 64

type deltaState struct {
	scope string
	keys  map[string]string // item id -> change key
}

// saveDelta stores a snapshot and returns its token. mb.mu is held.
func (mb *Mailbox) saveDelta(scope string, keys map[string]string) int64 {
	if mb.deltas == nil {
		mb.deltas = map[int64]deltaState{}
	}
	mb.deltaSeq++
	mb.deltas[mb.deltaSeq] = deltaState{scope, keys}
	delete(mb.deltas, mb.deltaSeq-maxDeltaStates)
	return mb.deltaSeq
}

// ForgetOutlookDeltas makes every message and calendar delta token issued
// so far answer 410.
func (mb *Mailbox) ForgetOutlookDeltas() {
	mb.mu.Lock()
	mb.deltas = nil
	mb.mu.Unlock()
}

// deltaPage is one page of a round: ids that are new or changed, and ids
// removed, in a stable order.
type deltaPage struct {
	changed, removed []string
	next, deltaLink  string
}

// deltaRound works out the page a delta request asks for. items is the
// scope's current snapshot. mb.mu is held for writing.
func (mb *Mailbox) deltaRound(r *http.Request, scope string, items map[string]string, pageSize int) (deltaPage, *apiError) {
	q := r.URL.Query()
	gone := &apiError{status: http.StatusGone, code: "SyncStateNotFound", message: "The sync state generation is not found; start a new sync."}
	var prev, cur int64
	offset := 0
	switch {
	case q.Get("$skiptoken") != "":
		parts := strings.Split(q.Get("$skiptoken"), ".")
		if len(parts) != 3 {
			return deltaPage{}, gone
		}
		var err1, err2, err3 error
		prev, err1 = strconv.ParseInt(parts[0], 10, 64)
		cur, err2 = strconv.ParseInt(parts[1], 10, 64)
		offset, err3 = strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || err3 != nil || offset < 0 {
			return deltaPage{}, gone
		}
	case q.Get("$deltatoken") != "":
		var err error
		if prev, err = strconv.ParseInt(q.Get("$deltatoken"), 10, 64); err != nil || prev <= 0 {
			return deltaPage{}, gone
		}
		cur = mb.saveDelta(scope, items)
	default:
		cur = mb.saveDelta(scope, items)
	}
	before := deltaState{scope: scope}
	if prev != 0 {
		var ok bool
		if before, ok = mb.deltas[prev]; !ok || before.scope != scope {
			return deltaPage{}, gone
		}
	}
	after, ok := mb.deltas[cur]
	if !ok || after.scope != scope {
		return deltaPage{}, gone
	}
	var changed, removed []string
	for id, key := range after.keys {
		if before.keys[id] != key {
			changed = append(changed, id)
		}
	}
	for id := range before.keys {
		if _, ok := after.keys[id]; !ok {
			removed = append(removed, id)
		}
	}
	slices.Sort(changed)
	slices.Sort(removed)
	all := append(changed, removed...)
	start := min(offset, len(all))
	end := min(start+pageSize, len(all))
	p := deltaPage{}
	for _, id := range all[start:end] {
		if _, ok := after.keys[id]; ok {
			p.changed = append(p.changed, id)
		} else {
			p.removed = append(p.removed, id)
		}
	}
	// Graph keeps the first request's $select in the round's links.
	link := baseURL(r) + r.URL.Path + "?"
	if sel := q.Get("$select"); sel != "" {
		link += "$select=" + url.QueryEscape(sel) + "&"
	}
	if end < len(all) {
		p.next = link + "$skiptoken=" + strconv.FormatInt(prev, 10) + "." + strconv.FormatInt(cur, 10) + "." + strconv.Itoa(end)
	} else {
		p.deltaLink = link + "$deltatoken=" + strconv.FormatInt(cur, 10)
	}
	return p, nil
}

// deltaPageSize is Prefer: odata.maxpagesize, else Graph's default.
func deltaPageSize(r *http.Request) int {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "odata.maxpagesize") {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					return min(n, 1000)
				}
			}
		}
	}
	return 10
}

func writeDelta(w http.ResponseWriter, r *http.Request, context string, values []any, p deltaPage) {
	extra := map[string]any{}
	if p.deltaLink != "" {
		extra["@odata.deltaLink"] = p.deltaLink
	}
	writeCollection(w, r, context, values, p.next, nil, extra)
}

// messagesDelta serves GET /me/mailFolders/{folder}/messages/delta.
func (s *Server) messagesDelta(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	// $skiptoken here is the round's own, not a list offset.
	plain := r.Clone(r.Context())
	q := plain.URL.Query()
	q.Del("$skiptoken")
	plain.URL.RawQuery = q.Encode()
	lq, e := parseListQuery(plain, messageType)
	if e != nil {
		e.write(w, r)
		return
	}
	bodyType := applyBodyPreference(w, r)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	f, e := mb.folderLocked(r.PathValue("folder"))
	if e != nil {
		e.write(w, r)
		return
	}
	items := map[string]string{}
	for _, m := range mb.messages {
		if m.ParentFolderID == f.ID {
			items[m.ID] = m.ChangeKey
		}
	}
	p, e := mb.deltaRound(r, "messages "+f.ID, items, deltaPageSize(r))
	if e != nil {
		e.write(w, r)
		return
	}
	var values []any
	for _, id := range p.changed {
		if m, ok := mb.messages[id]; ok {
			values = append(values, project(messageView(m, bodyType), lq.selects))
		} else {
			values = append(values, removedJSON("message", id))
		}
	}
	for _, id := range p.removed {
		values = append(values, removedJSON("message", id))
	}
	writeDelta(w, r, "Collection(message)", values, p)
}

// calendarViewDelta serves GET /me/calendarView/delta: the occurrences in
// a window. The window is fixed by the first request; later links carry
// it along, as Graph's do.
func (s *Server) calendarViewDelta(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	from, to, ok := timeWindow(w, r)
	if !ok {
		return
	}
	tv := requestedZone(w, r)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	current := map[string]*eventJSON{}
	items := map[string]string{}
	cal := mb.DefaultCalendar()
	for _, ev := range mb.events {
		if ev.CalendarID != cal.ID {
			continue
		}
		for _, o := range ev.expand(from, to) {
			j := mb.render(o, tv)
			current[j.ID] = j
			items[j.ID] = j.ChangeKey + o.start.UTC().Format(time.RFC3339) + o.end.UTC().Format(time.RFC3339) + o.subject
		}
	}
	scope := "calendarView " + from.UTC().Format(time.RFC3339) + " " + to.UTC().Format(time.RFC3339)
	p, e := mb.deltaRound(r, scope, items, deltaPageSize(r))
	if e != nil {
		e.write(w, r)
		return
	}
	var values []any
	for _, id := range p.changed {
		if j, ok := current[id]; ok {
			values = append(values, j)
		} else {
			values = append(values, removedJSON("event", id))
		}
	}
	for _, id := range p.removed {
		values = append(values, removedJSON("event", id))
	}
	// The window travels in the links.
	window := "&startDateTime=" + from.UTC().Format(time.RFC3339) + "&endDateTime=" + to.UTC().Format(time.RFC3339)
	if p.next != "" {
		p.next += window
	}
	if p.deltaLink != "" {
		p.deltaLink += window
	}
	writeDelta(w, r, "Collection(event)", values, p)
}

// RemoveEvent deletes an event (a whole series for a series master).
func (mb *Mailbox) RemoveEvent(id string) bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	_, ok := mb.events[id]
	delete(mb.events, id)
	return ok
}

func removedJSON(kind, id string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph." + kind, "id": id, "@removed": map[string]string{"reason": "deleted"}}
}
