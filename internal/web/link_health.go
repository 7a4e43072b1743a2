package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"graphgate"
)

// healthRow is one person's Microsoft 365 link as admins see it.
type healthRow struct {
	User   *graphgate.User
	State  string // linked, attention, unlinked
	Link   *graphgate.Link
	Reason string
	Tokens int
	Apps   int
}

// healthStates are the filters of the link health table.
var healthStates = []string{"linked", "attention", "unlinked"}

// linkHealth is every person's link state, last Graph call, last refresh,
// last error, agent tokens and connected apps; state filters ("" for all).
func (s *Server) linkHealth(ctx context.Context, users []*graphgate.User, state string) ([]healthRow, error) {
	links, err := s.store.Links(ctx)
	if err != nil {
		return nil, err
	}
	byUser := map[int64]*graphgate.Link{}
	for _, l := range links {
		byUser[l.UserID] = l
	}
	tokens, err := s.store.CountAgentTokens(ctx)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.Grants(ctx, 0)
	if err != nil {
		return nil, err
	}
	apps := map[int64]int{}
	for _, g := range grants {
		apps[g.UserID]++
	}
	var rows []healthRow
	for _, u := range users {
		row := healthRow{User: u, State: "unlinked", Link: byUser[u.ID], Tokens: tokens[u.ID], Apps: apps[u.ID]}
		if row.Link != nil {
			row.State, row.Reason = "linked", row.Link.Reason
			if row.Reason == "" {
				row.Reason = s.m365.Refusal(row.Link)
			}
			if row.Reason != "" {
				row.State = "attention"
			}
		}
		if state == "" || state == row.State {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// linkHealthCSV downloads the link health table.
func (s *Server) linkHealthCSV(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	rows, err := s.linkHealth(r.Context(), users, r.URL.Query().Get("state"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="graphgate-links.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"email", "name", "role", "state", "account", "kind", "linked_since", "last_graph_call", "last_refresh",
		"last_error", "last_error_at", "reason", "agent_tokens", "connected_apps", "asked_to_reconnect"})
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, row := range rows {
		rec := []string{row.User.Email, row.User.Name, string(row.User.Role), row.State, "", "", "", "", "", "", "", row.Reason,
			strconv.Itoa(row.Tokens), strconv.Itoa(row.Apps), stamp(row.User.ReconnectAskedAt)}
		if l := row.Link; l != nil {
			kind := "work or school"
			if l.Personal {
				kind = "personal"
			}
			rec[4], rec[5], rec[6], rec[7], rec[8], rec[9], rec[10] = l.Username, kind, stamp(l.LinkedAt), stamp(l.LastGraphAt),
				stamp(l.LastRefreshAt), l.LastError, stamp(l.LastErrorAt)
		}
		for i := range rec {
			rec[i] = spreadsheetSafe(rec[i])
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// spreadsheetSafe keeps a value from outside (a display name, Microsoft's
// words) from running as a formula when the CSV is opened.
func spreadsheetSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
