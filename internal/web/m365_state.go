package web

import (
	"net/http"
	"strconv"

	"graphgate"
)

func (s *Server) m365SetEnabled(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.admin.SetM365Enabled(r.Context(), sessionFrom(r).user, enabled); err != nil {
			s.errorPage(w, r, err)
			return
		}
		msg := "Microsoft 365 disabled: agents and people cannot use it until you enable it again."
		if enabled {
			msg = "Microsoft 365 enabled."
		}
		s.setFlash(w, "success", msg)
		http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
	}
}

type removeData struct{ Links int }

func (s *Server) m365RemoveForm(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.M365Config(r.Context()); err != nil {
		s.errorPage(w, r, err)
		return
	}
	links, err := s.store.CountLinks(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_remove", "Remove Microsoft 365", removeData{Links: links})
}

func (s *Server) m365Remove(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirm") != "remove" {
		s.errorPage(w, r, graphgate.Errorf(graphgate.EINVALID, "Type remove to confirm."))
		return
	}
	n, err := s.admin.RemoveM365(r.Context(), sessionFrom(r).user)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", "Microsoft 365 removed, with "+strconv.Itoa(n)+" linked account"+plural(n)+".")
	http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
}
