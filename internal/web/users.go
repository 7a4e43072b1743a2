package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/config"
	"graphgate/internal/password"
)

type usersData struct {
	Users  []*graphgate.User
	Me     int64
	Form   admin.NewUser
	Errors graphgate.FieldErrors
	// SignIn is the sign-in rules form, as saved or as typed.
	SignIn       admin.SignInForm
	SignInErrors graphgate.FieldErrors
	Authority    string
	// Health is each person's Microsoft 365 link, filtered by State.
	Health []healthRow
	State  string
	States []string
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	s.showUsers(w, r, http.StatusOK, usersData{Form: admin.NewUser{Role: graphgate.RoleUser}})
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, status int, d usersData) {
	list, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d.Users, d.Me, d.Authority, d.States = list, sessionFrom(r).user.ID, s.cfg.M365Authority, healthStates
	if state := r.URL.Query().Get("state"); slices.Contains(healthStates, state) {
		d.State = state
	}
	if d.Health, err = s.linkHealth(r.Context(), list, d.State); err != nil {
		s.errorPage(w, r, err)
		return
	}
	if d.SignInErrors == nil {
		rules, err := s.store.SignInSettings(r.Context())
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		d.SignIn = admin.SignInForm{Microsoft: rules.Microsoft, Who: rules.Who, Tenants: strings.Join(rules.Tenants, ", "),
			Personal: rules.Personal, Domains: strings.Join(rules.Domains, ", "), AdminEmails: strings.Join(rules.AdminEmails, ", "),
			AdminRole: rules.AdminRole, Passwords: rules.Passwords, BreakGlass: strings.Join(rules.BreakGlass, ", ")}
		if d.SignIn.Tenants == "" && config.IsGUID(s.cfg.M365Authority) {
			d.SignIn.Tenants = s.cfg.M365Authority // the configured tenant by default
		}
	}
	s.render(w, r, status, "admin_users", "Users", d)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	in := admin.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password"),
		Role: graphgate.Role(r.PostFormValue("role"))}
	u, err := s.admin.CreateUser(r.Context(), sessionFrom(r).user, in)
	if fe := admin.FieldErrorsOf(err); fe != nil {
		in.Password = ""
		s.showUsers(w, r, http.StatusUnprocessableEntity, usersData{Form: in, Errors: fe})
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", u.Email+" can now sign in with the password you set.")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// userAction handles POST /admin/users/{id}/{role|password|onboarding|remove}.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, graphgate.Errorf(graphgate.ENOTFOUND, "No such user."))
		return
	}
	actor := sessionFrom(r).user
	var msg string
	switch r.PathValue("action") {
	case "role":
		var u *graphgate.User
		if u, err = s.admin.SetRole(r.Context(), actor, id, graphgate.Role(r.PostFormValue("role"))); err == nil {
			msg = u.Email + " is now " + string(u.Role) + "."
		}
	case "password":
		var u *graphgate.User
		if u, err = s.admin.ResetPassword(r.Context(), actor, id, r.PostFormValue("password")); err == nil {
			msg = "Password reset for " + u.Email + "; their other sessions ended."
			if u.ID == actor.ID {
				// Their own sessions ended too: keep this browser signed in.
				err = s.startSession(w, r, u)
			}
		}
	case "reconnect":
		var u *graphgate.User
		if u, err = s.admin.AskToReconnect(r.Context(), actor, id); err == nil {
			msg = u.Email + " will be asked to reconnect their Microsoft account at their next visit."
		}
	case "onboarding":
		var u *graphgate.User
		if u, err = s.admin.ResetOnboarding(r.Context(), actor, id); err == nil {
			msg = u.Email + " will see onboarding at their next sign-in."
		}
	case "remove":
		if err = s.admin.RemoveUser(r.Context(), actor, id); err == nil {
			msg = "User removed."
		}
	default:
		err = graphgate.Errorf(graphgate.ENOTFOUND, "No such action.")
	}
	if fe := admin.FieldErrorsOf(err); fe != nil {
		var parts []string
		for _, v := range fe {
			parts = append(parts, v)
		}
		s.setFlash(w, "error", strings.Join(parts, " "))
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
		return
	}
	if graphgate.ErrorCode(err) == graphgate.EINVALID {
		s.setFlash(w, "error", graphgate.ErrorMessage(err))
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", msg)
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

const auditPageSize = 25

func passwordProblem(pw string) string { return password.Check(pw) }
