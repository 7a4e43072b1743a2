package web

import (
	"net/http"

	"graphgate/internal/admin"
)

// oauthSettings saves the rules for MCP clients from the MCP Servers tab.
func (s *Server) oauthSettings(w http.ResponseWriter, r *http.Request) {
	_, err := s.admin.SetOAuthSettings(r.Context(), sessionFrom(r).user, r.PostFormValue("registration") == "on", r.PostFormValue("clientHosts"))
	if fe := admin.FieldErrorsOf(err); fe != nil {
		s.showServers(w, r, http.StatusUnprocessableEntity, func(d *serversData) {
			d.HostsTyped, d.HostsError = r.PostFormValue("clientHosts"), fe[admin.FieldClientHosts]
		})
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", "Saved the rules for connecting apps.")
	http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
}
