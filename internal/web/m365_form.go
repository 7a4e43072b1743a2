package web

import (
	"net/http"

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
