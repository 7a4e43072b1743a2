package web

import (
	"net/http"
	"strconv"
	"time"

	"graphgate"
	"graphgate/internal/admin"
)

type auditData struct {
	Events        []*graphgate.AuditEvent
	Total         int
	Page, Pages   int
	Action, Actor string
	Since, Until  string
	Actions       []string
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	f, d, err := auditFilter(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	f.Limit = auditPageSize
	f.Offset = (d.Page - 1) * auditPageSize
	events, total, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d.Events, d.Total, d.Pages, d.Actions = events, total, max(1, (total+auditPageSize-1)/auditPageSize), admin.Actions
	s.render(w, r, http.StatusOK, "admin_audit", "Audit log", d)
}

// auditFilter reads the audit log's filters from the query string.
func auditFilter(r *http.Request) (graphgate.AuditFilter, auditData, error) {
	q := r.URL.Query()
	d := auditData{Action: q.Get("action"), Actor: q.Get("actor"), Since: q.Get("since"), Until: q.Get("until"), Page: 1}
	f := graphgate.AuditFilter{Action: d.Action, Actor: d.Actor}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			return f, d, graphgate.Errorf(graphgate.EINVALID, "The page number is not valid.")
		}
		d.Page = n
	}
	for _, v := range []struct {
		raw string
		dst *time.Time
		add int
	}{{d.Since, &f.Since, 0}, {d.Until, &f.Until, 1}} {
		if v.raw == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", v.raw)
		if err != nil {
			return f, d, graphgate.Errorf(graphgate.EINVALID, "Dates look like 2026-11-25.")
		}
		*v.dst = t.AddDate(0, 0, v.add)
	}
	return f, d, nil
}
