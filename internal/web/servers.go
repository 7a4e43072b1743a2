package web

import (
	"net/http"
	"strconv"
	"strings"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/microsoft365"
)

// m365Form is the "Connect graphgate to Microsoft 365" form's state.
type m365Form struct {
	Mode          string // configure, edit or rotate
	Action        string // where the form posts
	Submit        string // the button's label
	ClientID      string
	RedirectURI   string
	SecretExpires string
	SecretHint    string
	Errors        graphgate.FieldErrors
	Callback      string // the redirect URI graphgate expects
	Onboarding    bool
}

func (s *Server) currentM365(r *http.Request) (*graphgate.M365Config, error) {
	cfg, err := s.store.M365Config(r.Context())
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return nil, nil
	}
	return cfg, err
}

// formFor prefills the form from the current configuration.
func (s *Server) formFor(cfg *graphgate.M365Config) m365Form {
	f := m365Form{Mode: "configure", RedirectURI: s.cfg.CallbackURL(), Callback: s.cfg.CallbackURL()}
	if cfg != nil {
		f.Mode, f.ClientID, f.RedirectURI, f.SecretHint = "edit", cfg.ClientID, cfg.RedirectURI, cfg.SecretHint
		if !cfg.SecretExpiresAt.IsZero() {
			f.SecretExpires = cfg.SecretExpiresAt.Format("2006-01-02")
		}
	}
	return f
}

// setupFromForm reads the form; what was typed comes back on error, except
// the secret, which is never rendered.
func setupFromForm(r *http.Request) microsoft365.Setup {
	return microsoft365.Setup{ClientID: r.PostFormValue("clientId"), ClientSecret: r.PostFormValue("clientSecret"),
		RedirectURI: r.PostFormValue("redirectUri"), SecretExpires: r.PostFormValue("secretExpiresAt")}
}

type serversData struct {
	Config      *graphgate.M365Config
	Status      graphgate.M365Status
	Links       int
	ExpiresDays int // days until the secret expires; meaningful when the expiry is set
	Callback    string
	// Apps are everyone's OAuth grants, with their owners' emails.
	Apps   []*graphgate.Grant
	Owners map[int64]string
	// OAuth is how MCP clients may identify themselves; HostsError is a
	// problem with the hosts typed.
	OAuth      *graphgate.OAuthSettings
	HostsTyped string
	HostsError string
}

func (s *Server) servers(w http.ResponseWriter, r *http.Request) {
	s.showServers(w, r, http.StatusOK, nil)
}

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

// showServers renders the MCP Servers tab; typed, when set, adjusts it (a
// form sent back with errors).
func (s *Server) showServers(w http.ResponseWriter, r *http.Request, status int, typed func(d *serversData)) {
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	links, err := s.store.CountLinks(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	apps, err := s.store.Grants(r.Context(), 0)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	owners := map[int64]string{}
	for _, g := range apps {
		if _, ok := owners[g.UserID]; !ok {
			if u, err := s.store.UserByID(r.Context(), g.UserID); err == nil {
				owners[g.UserID] = u.Email
			}
		}
	}
	oauth, err := s.store.OAuthSettings(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d := serversData{Config: cfg, Status: cfg.Status(), Links: links, Callback: s.cfg.CallbackURL(), Apps: apps, Owners: owners,
		OAuth: oauth, HostsTyped: strings.Join(oauth.ClientHosts, ", ")}
	if cfg != nil && !cfg.SecretExpiresAt.IsZero() {
		d.ExpiresDays = int(cfg.SecretExpiresAt.Sub(s.now()).Hours() / 24)
	}
	if typed != nil {
		typed(&d)
	}
	s.render(w, r, status, "admin_servers", "MCP Servers", d)
}

// formPage says which of the three uses of the Microsoft 365 form a page is.
type formPage struct {
	mode, action, submit, page, title string
	onboarding                        bool
}

var (
	editPage       = formPage{"edit", "/admin/servers/microsoft365/edit", "Save", "admin_m365_form", "Connect graphgate to Microsoft 365", false}
	rotatePage     = formPage{"rotate", "/admin/servers/microsoft365/rotate", "Rotate secret", "admin_m365_form", "Rotate the client secret", false}
	onboardingPage = formPage{"edit", "/onboarding/microsoft365", "Enable", "onboarding_form", "Connect graphgate to Microsoft 365", true}
)

// showM365Form renders the form prefilled from the current configuration,
// or with what was typed (never the secret) and the errors next to fields.
func (s *Server) showM365Form(w http.ResponseWriter, r *http.Request, status int, p formPage, typed *microsoft365.Setup, errs graphgate.FieldErrors) {
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if p.mode == "rotate" && cfg == nil {
		s.errorPage(w, r, graphgate.Errorf(graphgate.ENOTFOUND, "Microsoft 365 is not configured yet."))
		return
	}
	f := s.formFor(cfg)
	f.Action, f.Submit, f.Onboarding, f.Errors = p.action, p.submit, p.onboarding, errs
	if cfg == nil {
		f.Submit = "Enable"
	}
	if p.mode == "rotate" {
		f.Mode, f.SecretExpires = "rotate", ""
	}
	if typed != nil {
		f.ClientID, f.RedirectURI, f.SecretExpires = typed.ClientID, typed.RedirectURI, typed.SecretExpires
	}
	s.render(w, r, status, p.page, p.title, f)
}

// saveM365 handles the configure/edit form on both the console and onboarding.
func (s *Server) saveM365(w http.ResponseWriter, r *http.Request, p formPage, next string) {
	in := setupFromForm(r)
	_, err := s.admin.ConfigureM365(r.Context(), sessionFrom(r).user, in)
	if fe := admin.FieldErrorsOf(err); fe != nil {
		s.showM365Form(w, r, http.StatusUnprocessableEntity, p, &in, fe)
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if !p.onboarding {
		s.setFlash(w, "success", "Microsoft 365 settings saved.")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) m365EditForm(w http.ResponseWriter, r *http.Request) {
	s.showM365Form(w, r, http.StatusOK, editPage, nil, nil)
}

func (s *Server) m365Edit(w http.ResponseWriter, r *http.Request) {
	s.saveM365(w, r, editPage, "/admin/servers")
}

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

// Onboarding: Set your company's tools, the form, Enable, Done.

type toolsData struct {
	Configured bool
}

func (s *Server) onboardingTools(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "onboarding_tools", "Set your company's tools", toolsData{Configured: cfg != nil})
}

func (s *Server) onboardingForm(w http.ResponseWriter, r *http.Request) {
	s.showM365Form(w, r, http.StatusOK, onboardingPage, nil, nil)
}

func (s *Server) onboardingSave(w http.ResponseWriter, r *http.Request) {
	s.saveM365(w, r, onboardingPage, "/onboarding/done")
}

func (s *Server) onboardingDone(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "onboarding_done", "Microsoft 365 is ready", nil)
}

func (s *Server) onboardingFinish(w http.ResponseWriter, r *http.Request) {
	if err := s.admin.FinishOnboarding(r.Context(), sessionFrom(r).user.ID); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
}
