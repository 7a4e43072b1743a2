package web

import (
	"net/http"

	"graphgate/internal/admin"
	"graphgate/internal/microsoft365"
)

func (s *Server) m365RotateForm(w http.ResponseWriter, r *http.Request) {
	s.showM365Form(w, r, http.StatusOK, rotatePage, nil, nil)
}

func (s *Server) m365Rotate(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.admin.RotateM365Secret(r.Context(), sessionFrom(r).user, r.PostFormValue("clientSecret"), r.PostFormValue("secretExpiresAt"))
	if fe := admin.FieldErrorsOf(err); fe != nil {
		s.showM365Form(w, r, http.StatusUnprocessableEntity, rotatePage, &microsoft365.Setup{SecretExpires: r.PostFormValue("secretExpiresAt")}, fe)
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", "Client secret rotated. New token requests use "+cfg.SecretHint+" from now on.")
	http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
}
