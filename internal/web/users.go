package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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

type auditData struct {
	Events        []*graphgate.AuditEvent
	Total         int
	Page, Pages   int
	Action, Actor string
	Since, Until  string
	Actions       []string
}

const auditPageSize = 25

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

func passwordProblem(pw string) string { return password.Check(pw) }

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
