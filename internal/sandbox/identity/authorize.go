package identity

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// A pending sign-in lives this long between the picker and the consent answer.
const requestTTL = 15 * time.Minute

// Authorization codes live about 10 minutes on Microsoft.
const codeTTL = 10 * time.Minute

// authRequest is a validated authorize request waiting for the person.
type authRequest struct {
	id           string
	authority    authority
	clientID     string
	redirectURI  string
	responseMode string
	state        string
	nonce        string
	challenge    string
	method       string
	scopes       []string
	prompt       string
	loginHint    string
	expires      time.Time
	person       *directory.Person
}

// authCode is an issued authorization code.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	method      string
	nonce       string
	scopes      []string
	person      *directory.Person
	expires     time.Time
	redeemed    bool
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, errMissingParam("client_id"))
		return
	}
	q := r.Form
	auth, ok := s.resolveAuthority(r.PathValue("tenant"))
	if !ok {
		s.errorPage(w, r, errTenantNotFound(r.PathValue("tenant")))
		return
	}
	app := s.App()
	clientID := q.Get("client_id")
	switch {
	case clientID == "":
		s.errorPage(w, r, errMissingParam("client_id"))
		return
	case clientID != app.ClientID:
		s.errorPage(w, r, errUnknownClient(clientID, auth.raw))
		return
	}
	redirectURI := q.Get("redirect_uri")
	switch {
	case redirectURI == "":
		s.errorPage(w, r, errMissingParam("redirect_uri"))
		return
	case !app.redirectRegistered(redirectURI):
		// Never redirect to an unregistered URI: that is how codes get stolen.
		s.errorPage(w, r, errRedirectNotRegistered(redirectURI, clientID))
		return
	}

	req := &authRequest{
		authority: auth, clientID: clientID, redirectURI: redirectURI,
		responseMode: q.Get("response_mode"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
		prompt: q.Get("prompt"), loginHint: q.Get("login_hint"),
	}
	switch req.responseMode {
	case "":
		req.responseMode = "query"
	case "query", "fragment", "form_post":
	default:
		req.responseMode = "query"
		s.redirectError(w, r, req, errInvalidParam("response_mode", q.Get("response_mode")))
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		if rt == "" {
			s.redirectError(w, r, req, errMissingParam("response_type"))
		} else {
			s.redirectError(w, r, req, aadError{400, "unsupported_response_type", 700054,
				fmt.Sprintf("response_type '%s' is not enabled for the application.", rt), ""})
		}
		return
	}
	if app.SingleTenant {
		if auth.kind == "common" {
			s.redirectError(w, r, req, errNotCommon)
			return
		}
		if auth.tenant == nil || auth.tenant.ID != app.HomeTenant {
			s.redirectError(w, r, req, errUnknownClient(clientID, auth.raw))
			return
		}
	}
	if q.Get("scope") == "" {
		s.redirectError(w, r, req, errMissingParam("scope"))
		return
	}
	scopes, bad := app.parseScopes(q.Get("scope"))
	if bad != "" {
		s.redirectError(w, r, req, errBadScope(bad))
		return
	}
	req.scopes = scopes
	if req.challenge != "" {
		switch req.method {
		case "":
			req.method = "plain" // Microsoft assumes plain when the method is omitted
		case "S256", "plain":
		default:
			s.redirectError(w, r, req, errInvalidParam("code_challenge_method", req.method))
			return
		}
	}
	switch req.prompt {
	case "", "login", "consent", "select_account", "none":
	default:
		s.redirectError(w, r, req, errInvalidParam("prompt", req.prompt))
		return
	}

	if req.prompt == "none" {
		s.silentSignIn(w, r, req)
		return
	}
	s.mu.Lock()
	req.id = opaque("", 24)
	req.expires = s.now().Add(requestTTL)
	s.requests[req.id] = req
	s.mu.Unlock()
	s.renderPicker(w, r, req, "")
}

// silentSignIn answers prompt=none: the sandbox keeps no browser session, so
// it succeeds only for a hinted person who already consented to every scope.
func (s *Server) silentSignIn(w http.ResponseWriter, r *http.Request, req *authRequest) {
	p, ok := s.dir.Person(req.loginHint)
	if req.loginHint == "" || !ok {
		s.redirectError(w, r, req, aadError{400, "login_required", 50058,
			"A silent sign-in request was sent but no user is signed in.", ""})
		return
	}
	if !req.authority.admits(p) {
		s.redirectError(w, r, req, errUserNotInTenant(p.UPN, req.authority.raw))
		return
	}
	s.mu.Lock()
	consented := containsAll(s.grantedLocked(p), req.scopes)
	s.mu.Unlock()
	if !consented {
		s.redirectError(w, r, req, aadError{400, "interaction_required", 65001,
			errConsentRequired(req.clientID).Message, "consent_required"})
		return
	}
	req.person = p
	s.finish(w, r, req)
}

// pendingRequest looks up a sign-in in progress from a page's form.
func (s *Server) pendingRequest(w http.ResponseWriter, r *http.Request) (*authRequest, bool) {
	id := r.PostFormValue("request")
	s.mu.Lock()
	req, ok := s.requests[id]
	if ok && !s.now().Before(req.expires) {
		delete(s.requests, id)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		s.errorPage(w, r, aadError{400, "invalid_request", 50058,
			"This sign-in request is no longer valid. Go back to the application and sign in again.", ""})
	}
	return req, ok
}

func (s *Server) chooseAccount(w http.ResponseWriter, r *http.Request) {
	req, ok := s.pendingRequest(w, r)
	if !ok {
		return
	}
	p, found := s.dir.Person(r.PostFormValue("account"))
	if !found {
		s.renderPicker(w, r, req, "Pick one of the accounts below.")
		return
	}
	if !req.authority.admits(p) {
		s.forget(req)
		tenant := req.authority.raw
		if req.authority.tenant != nil {
			tenant = req.authority.tenant.Name
		}
		s.redirectError(w, r, req, errUserNotInTenant(p.UPN, tenant))
		return
	}
	s.mu.Lock()
	unassigned := s.assignmentRequired && len(s.roles[p.ObjectID]) == 0
	s.mu.Unlock()
	if unassigned {
		s.forget(req)
		s.redirectError(w, r, req, errNotAssigned(p.UPN, s.App().ClientID))
		return
	}
	s.mu.Lock()
	req.person = p
	s.mu.Unlock()
	s.afterSignIn(w, r, req)
}

func (s *Server) answerConsent(w http.ResponseWriter, r *http.Request) {
	req, ok := s.pendingRequest(w, r)
	if !ok {
		return
	}
	if req.person == nil {
		s.renderPicker(w, r, req, "Pick an account first.")
		return
	}
	step, _ := s.nextStep(req)
	switch {
	case step == stepAdminNeeded:
		// "Return to the application without granting consent", or a
		// forged accept: only an admin may grant these.
		s.forget(req)
		s.redirectError(w, r, req, errAdminApprovalCancelled)
		return
	case r.PostFormValue("decision") != "accept":
		s.forget(req)
		s.redirectError(w, r, req, errDeclined)
		return
	}
	s.mu.Lock()
	granted := s.consent[req.person.ObjectID]
	if granted == nil {
		granted = map[string]bool{}
		s.consent[req.person.ObjectID] = granted
	}
	for _, sc := range req.scopes {
		granted[sc] = true
	}
	s.mu.Unlock()
	s.finish(w, r, req)
}

func (s *Server) forget(req *authRequest) {
	s.mu.Lock()
	delete(s.requests, req.id)
	s.mu.Unlock()
}

// finish issues the authorization code and sends the browser back to the app.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, req *authRequest) {
	code := opaque("1.AQ", 48)
	s.mu.Lock()
	delete(s.requests, req.id)
	s.codes[code] = &authCode{
		clientID: req.clientID, redirectURI: req.redirectURI, challenge: req.challenge,
		method: req.method, nonce: req.nonce, scopes: req.scopes, person: req.person,
		expires: s.now().Add(codeTTL),
	}
	s.mu.Unlock()
	params := url.Values{"code": {code}, "session_state": {newGUID()}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.respond(w, r, req, params)
}

// redirectError sends an OAuth error back to the app's registered redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e aadError) {
	params := url.Values{
		"error":             {e.Error},
		"error_description": {e.redirectDescription(s.now())},
		"error_uri":         {fmt.Sprintf("%s/error?code=%d", baseURL(r), e.Code)},
	}
	if e.SubError != "" {
		params.Set("error_subcode", e.SubError)
	}
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.respond(w, r, req, params)
}

// respond delivers params to the redirect URI in the requested response mode.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	switch req.responseMode {
	case "form_post":
		renderPage(w, http.StatusOK, "form_post", formPostPage{Action: req.redirectURI, Params: params})
	case "fragment":
		http.Redirect(w, r, req.redirectURI+"#"+params.Encode(), http.StatusFound)
	default:
		sep := "?"
		if strings.Contains(req.redirectURI, "?") {
			sep = "&"
		}
		http.Redirect(w, r, req.redirectURI+sep+params.Encode(), http.StatusFound)
	}
}

func errInvalidParam(name, value string) aadError {
	return aadError{400, "invalid_request", 90023,
		fmt.Sprintf("Invalid request. The value '%s' of parameter '%s' is not supported.", value, name), ""}
}
