package identity

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Consent as Microsoft keeps it: per person and app, lasting until revoked;
// plus what a tenant's admin granted for everyone in the tenant. Consent
// pages list only what is new; permissions only an admin may grant (by
// Microsoft's flag, or because the tenant lets only admins consent) show
// "Need admin approval" instead; personal accounts asked for a permission
// they cannot have get invalid_scope and nothing at all.

// grantedLocked is everything the person has consented to, their own
// consent and their tenant admin's. s.mu must be held.
func (s *Server) grantedLocked(p *directory.Person) map[string]bool {
	out := map[string]bool{}
	for sc := range s.consent[p.ObjectID] {
		out[sc] = true
	}
	for sc := range s.tenantConsent[p.Tenant.ID] {
		out[sc] = true
	}
	return out
}

// consentStep is what a person picked for a sign-in sees next.
type consentStep int

const (
	stepDone        consentStep = iota // everything asked for is granted
	stepConsent                        // the consent page, for what is new
	stepAdminNeeded                    // "Need admin approval"
)

// nextStep decides, for a person who signed in, whether Microsoft asks
// for consent, and for which of the scopes requested.
func (s *Server) nextStep(req *authRequest) (consentStep, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	have := s.grantedLocked(req.person)
	var fresh []string
	adminOnly := false
	for _, sc := range req.scopes {
		if have[sc] {
			continue
		}
		fresh = append(fresh, sc)
		info, _ := lookupScope(sc)
		if !req.person.Personal() && (info.Admin || s.userConsentOff[req.person.Tenant.ID] && info.Graph) {
			adminOnly = true
		}
	}
	switch {
	case adminOnly:
		return stepAdminNeeded, fresh
	case len(fresh) == 0 && req.prompt != "consent":
		return stepDone, nil
	case len(fresh) == 0:
		return stepConsent, req.scopes
	}
	return stepConsent, fresh
}

// notForPersonal lists the scopes requested that personal accounts cannot have.
func notForPersonal(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if info, _ := lookupScope(sc); !info.Personal {
			out = append(out, sc)
		}
	}
	return out
}

// afterSignIn moves a sign-in on once the person is known.
func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request, req *authRequest) {
	if req.person.Personal() {
		if bad := notForPersonal(req.scopes); len(bad) > 0 {
			s.forget(req)
			s.redirectError(w, r, req, errScopeNotForPersonal(req.scopes))
			return
		}
	}
	switch step, fresh := s.nextStep(req); step {
	case stepDone:
		s.finish(w, r, req)
	case stepAdminNeeded:
		renderPage(w, http.StatusOK, "admin_needed", adminNeededPage{Tenant: r.PathValue("tenant"), Request: req.id,
			AppName: s.App().Name, Account: req.person.UPN, Permissions: describeScopes(fresh)})
	default:
		s.renderConsent(w, r, req, fresh)
	}
}

type adminNeededPage struct {
	Tenant, Request, AppName, Account string
	Permissions                       []string
}

// errScopeNotForPersonal is what a personal account asked for a work-only
// permission gets back: the whole request refused.
func errScopeNotForPersonal(scopes []string) aadError {
	return aadError{400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '" +
		strings.Join(scopes, " ") + "' does not exist.", ""}
}

// errAdminApprovalCancelled is what reaches the app after "Need admin
// approval" and "Return to the application without granting consent".
var errAdminApprovalCancelled = aadError{400, "access_denied", 65004, "User declined to consent to access the app.", "cancel"}

// adminRequest is an admin consent waiting for the admin.
type adminRequest struct {
	id, tenantRaw, redirectURI, state string
	tenant                            *directory.Tenant // nil for organizations
	scopes                            []string
	expires                           time.Time
}

type adminConsentPage struct {
	Tenant, Request, AppName string
	Permissions              []string
	Accounts                 []accountChoice
}

// adminConsent serves GET /{tenant}/v2.0/adminconsent: an admin grants the
// app's permissions for everyone in their organisation.
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	auth, ok := s.resolveAuthority(r.PathValue("tenant"))
	app := s.App()
	switch {
	case !ok:
		s.errorPage(w, r, errTenantNotFound(r.PathValue("tenant")))
		return
	case auth.kind == "common" || auth.kind == "consumers":
		s.errorPage(w, r, aadError{400, "invalid_request", 90130, "Application '" + app.ClientID +
			"' is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.", ""})
		return
	case q.Get("client_id") != app.ClientID:
		s.errorPage(w, r, errUnknownClient(q.Get("client_id"), auth.raw))
		return
	case !app.redirectRegistered(q.Get("redirect_uri")):
		s.errorPage(w, r, errRedirectNotRegistered(q.Get("redirect_uri"), app.ClientID))
		return
	}
	req := &adminRequest{id: opaque("", 24), tenantRaw: auth.raw, tenant: auth.tenant, redirectURI: q.Get("redirect_uri"),
		state: q.Get("state"), expires: s.now().Add(requestTTL)}
	scopes, bad := app.parseScopes(q.Get("scope"))
	if q.Get("scope") == "" || bad != "" {
		s.adminAnswer(w, r, req, url.Values{"error": {"invalid_scope"}, "error_description": {errBadScope(bad).redirectDescription(s.now())}})
		return
	}
	req.scopes = scopes
	s.mu.Lock()
	s.adminRequests[req.id] = req
	s.mu.Unlock()
	page := adminConsentPage{Tenant: auth.raw, Request: req.id, AppName: app.Name, Permissions: describeScopes(graphScopes(scopes))}
	for _, p := range s.dir.People() {
		if !p.Personal() {
			page.Accounts = append(page.Accounts, accountChoice{UPN: p.UPN, Name: p.DisplayName, Kind: p.Tenant.Name, Selected: p.Admin})
		}
	}
	renderPage(w, http.StatusOK, "admin_consent", page)
}

// answerAdminConsent handles the admin consent page's form.
func (s *Server) answerAdminConsent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	req, ok := s.adminRequests[r.PostFormValue("request")]
	delete(s.adminRequests, r.PostFormValue("request"))
	s.mu.Unlock()
	if !ok || !s.now().Before(req.expires) {
		s.errorPage(w, r, aadError{400, "invalid_request", 50058,
			"This sign-in request is no longer valid. Go back to the application and sign in again.", ""})
		return
	}
	p, found := s.dir.Person(r.PostFormValue("account"))
	switch {
	case r.PostFormValue("decision") != "accept":
		s.adminAnswer(w, r, req, url.Values{"error": {"access_denied"},
			"error_description": {aadError{Code: 65004, Message: "User declined to consent to access the app."}.redirectDescription(s.now())}})
		return
	case !found || p.Personal() || req.tenant != nil && p.Tenant != req.tenant:
		upn := r.PostFormValue("account")
		s.adminAnswer(w, r, req, url.Values{"error": {"access_denied"},
			"error_description": {errUserNotInTenant(upn, req.tenantRaw).redirectDescription(s.now())}})
		return
	case !p.Admin:
		s.adminAnswer(w, r, req, url.Values{"error": {"consent_required"}, "error_description": {aadError{Code: 90094,
			Message: "Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin."}.redirectDescription(s.now())}})
		return
	}
	s.mu.Lock()
	granted := s.tenantConsent[p.Tenant.ID]
	if granted == nil {
		granted = map[string]bool{}
		s.tenantConsent[p.Tenant.ID] = granted
	}
	for _, sc := range req.scopes {
		granted[sc] = true
	}
	s.mu.Unlock()
	var qualified []string
	for _, sc := range graphScopes(req.scopes) {
		qualified = append(qualified, GraphResource+sc)
	}
	s.adminAnswer(w, r, req, url.Values{"tenant": {p.Tenant.ID}, "scope": {strings.Join(qualified, " ")}})
}

// adminAnswer sends the admin back to the app with admin_consent=True and
// the state, as Microsoft does for success and errors alike.
func (s *Server) adminAnswer(w http.ResponseWriter, r *http.Request, req *adminRequest, params url.Values) {
	params.Set("admin_consent", "True")
	if req.state != "" {
		params.Set("state", req.state)
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	sep := "?"
	if strings.Contains(req.redirectURI, "?") {
		sep = "&"
	}
	http.Redirect(w, r, req.redirectURI+sep+params.Encode(), http.StatusFound)
}

// SetUserConsent sets whether people of a tenant may consent for
// themselves (Entra's user consent settings): off, every permission needs
// an admin.
func (s *Server) SetUserConsent(t *directory.Tenant, allowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userConsentOff[t.ID] = !allowed
}

// RevokeAdminConsent forgets what a tenant's admin granted for everyone.
func (s *Server) RevokeAdminConsent(t *directory.Tenant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tenantConsent, t.ID)
}

// Consented lists what a person granted the app (their own consent and
// their tenant admin's), sorted.
func (s *Server) Consented(p *directory.Person) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for sc := range s.grantedLocked(p) {
		out = append(out, sc)
	}
	slices.Sort(out)
	return out
}
