package web

import (
	"net/http"

	"graphgate"
	"graphgate/internal/admin"
)

// signInRules saves who may sign in, and how, from the Users tab.
func (s *Server) signInRules(w http.ResponseWriter, r *http.Request) {
	in := admin.SignInForm{Microsoft: r.PostFormValue("microsoft") == "on", Who: r.PostFormValue("who"), Tenants: r.PostFormValue("tenants"),
		Personal: r.PostFormValue("personal") == "on", Domains: r.PostFormValue("domains"), AdminEmails: r.PostFormValue("adminEmails"),
		AdminRole: r.PostFormValue("adminRole"), Passwords: r.PostFormValue("passwords") == "on", BreakGlass: r.PostFormValue("breakGlass")}
	_, err := s.admin.SetSignInSettings(r.Context(), sessionFrom(r).user, s.cfg.M365Authority, in)
	if fe := admin.FieldErrorsOf(err); fe != nil {
		s.showUsers(w, r, http.StatusUnprocessableEntity, usersData{Form: admin.NewUser{Role: graphgate.RoleUser}, SignIn: in, SignInErrors: fe})
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", "Saved the sign-in rules.")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}
