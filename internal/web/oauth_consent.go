package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/oauthserver"
)

// consentData is what the consent page shows.
type consentData struct {
	Request  *oauthserver.Request
	Raw      string // the authorization request's query, sent back with the decision
	Tile     tileState
	Toolsets []string
	Chosen   []string // toolsets ticked
	Writes   bool     // the client asked to change things
	ReadOnly bool
	// ConfirmWrites: ask the person before the app sends or deletes.
	ConfirmWrites bool
	Error         string
}

// consent is the authorization endpoint: it checks the request and asks the
// signed-in person what the client may do.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	req, ok := s.checkAuthorize(w, r, r.URL.Query())
	if !ok {
		return
	}
	d := consentData{Request: req, Raw: r.URL.RawQuery, Toolsets: graphgate.Toolsets}
	for _, sc := range req.Scopes {
		set, access, _ := strings.Cut(sc, ".")
		if !slices.Contains(d.Chosen, set) {
			d.Chosen = append(d.Chosen, set)
		}
		d.Writes = d.Writes || access == "write"
	}
	d.ReadOnly = !d.Writes
	s.showConsent(w, r, http.StatusOK, d)
}

// checkAuthorize validates an authorization request, answering it itself
// (an error page, or the client's redirect with an error) when it fails.
func (s *Server) checkAuthorize(w http.ResponseWriter, r *http.Request, q url.Values) (*oauthserver.Request, bool) {
	req, redirect, err := s.oauth.Check(r.Context(), q)
	var page *oauthserver.PageError
	switch {
	case errors.As(err, &page):
		s.render(w, r, http.StatusBadRequest, "error", "Cannot connect the app", page.Message)
		return nil, false
	case err != nil:
		s.errorPage(w, r, err)
		return nil, false
	case redirect != "":
		http.Redirect(w, r, redirect, http.StatusFound)
		return nil, false
	}
	return req, true
}

func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, status int, d consentData) {
	tile, err := s.tile(r, sessionFrom(r).user.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d.Tile = tile
	// The decision's form redirects to the client: allow that target, and
	// the client's logo (https only) from its own origin.
	csp := strings.Replace(w.Header().Get("Content-Security-Policy"), "form-action 'self'", "form-action 'self' "+formTarget(d.Request.RedirectURI), 1)
	if logo := d.Request.Client.LogoURI; logo != "" {
		csp = strings.Replace(csp, "img-src 'self' data:", "img-src 'self' data: "+formTarget(logo), 1)
	}
	w.Header().Set("Content-Security-Policy", csp)
	s.render(w, r, status, "oauth_consent", "Connect "+d.Request.Client.Name, d)
}

// formTarget is the CSP source of uri's origin (a scheme alone for an
// app's own scheme).
func formTarget(uri string) string {
	u, err := url.Parse(uri)
	switch {
	case err != nil || !cspScheme.MatchString(u.Scheme) || u.Host != "" && !cspHost.MatchString(u.Host):
		return "" // nothing that could break out of the policy
	case u.Host == "":
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

var (
	cspScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*$`)
	cspHost   = regexp.MustCompile(`^[a-zA-Z0-9.-]+(:[0-9]+)?$|^\[[0-9a-fA-F:.]+\](:[0-9]+)?$`)
)

// decide takes the person's Allow or Deny.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.PostFormValue("request"))
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "error", "Cannot connect the app", "The form was damaged. Go back to the app and connect again.")
		return
	}
	req, ok := s.checkAuthorize(w, r, q)
	if !ok {
		return
	}
	if r.PostFormValue("decision") != "allow" {
		http.Redirect(w, r, s.oauth.Deny(req), http.StatusSeeOther)
		return
	}
	u := sessionFrom(r).user
	d := consentData{Request: req, Raw: r.PostFormValue("request"), Toolsets: graphgate.Toolsets, Chosen: r.PostForm["toolsets"],
		ReadOnly: r.PostFormValue("readOnly") == "on", ConfirmWrites: r.PostFormValue("confirmWrites") == "on"}
	for _, sc := range req.Scopes {
		d.Writes = d.Writes || strings.HasSuffix(sc, ".write")
	}
	tile, err := s.tile(r, u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	var chosen []string
	for _, set := range d.Chosen {
		if !slices.Contains(graphgate.Toolsets, set) {
			d.Error = "Choose among the toolsets shown."
		}
	}
	if len(d.Chosen) == 0 {
		d.Error = "Tick at least one of mail, calendar, files and profile, or click Deny."
	}
	// What the person ticked, and never more than the client asked for.
	for _, sc := range graphgate.ScopesOf(d.Chosen, d.ReadOnly) {
		if slices.Contains(req.Scopes, sc) {
			chosen = append(chosen, sc)
		}
	}
	if d.Error == "" && len(chosen) == 0 {
		d.Error = "The app did not ask for any of what you ticked."
	}
	expires, err := grantExpiry(r.PostFormValue("expires"), s.now())
	if err != nil {
		d.Error = err.Error()
	}
	if tile.State != "linked" {
		d.Error = "Link your Microsoft account first: the app would have nothing to work with."
	}
	if d.Error != "" {
		s.showConsent(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	target, err := s.oauth.Allow(r.Context(), req, u, chosen, expires, d.ConfirmWrites)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// grantExpiry reads the consent form's expiry: days from now, or never.
func grantExpiry(v string, now time.Time) (time.Time, error) {
	switch v {
	case "never":
		return time.Time{}, nil
	case "30", "90", "366":
		n, _ := strconv.Atoi(v)
		return now.AddDate(0, 0, n).UTC(), nil
	}
	return time.Time{}, graphgate.Errorf(graphgate.EINVALID, "Choose when the access ends.")
}

// disconnectApp ends one of the person's grants.
func (s *Server) disconnectApp(w http.ResponseWriter, r *http.Request) {
	s.endGrant(w, r, sessionFrom(r).user.ID, "/integrations")
}

// revokeApp ends anyone's grant, from the console.
func (s *Server) revokeApp(w http.ResponseWriter, r *http.Request) {
	s.endGrant(w, r, 0, "/admin/servers")
}

func (s *Server) endGrant(w http.ResponseWriter, r *http.Request, owner int64, back string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = s.store.RevokeGrant(r.Context(), owner, id)
	}
	if err != nil {
		if graphgate.ErrorCode(err) == graphgate.ENOTFOUND || id == 0 {
			s.setFlash(w, "error", "That app is not connected.")
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		s.errorPage(w, r, err)
		return
	}
	actor := sessionFrom(r).user
	if err := s.admin.Record(r.Context(), actor, graphgate.ActionOAuthRevoke, strconv.FormatInt(id, 10), nil); err != nil {
		s.log.Error("auditing a revoked grant", "err", err)
	}
	msg := "Disconnected: the app can no longer act for you."
	if owner == 0 {
		msg = "Access revoked: the app can no longer act for that person."
	}
	s.setFlash(w, "success", msg)
	http.Redirect(w, r, back, http.StatusSeeOther)
}
