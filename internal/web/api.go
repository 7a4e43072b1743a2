package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/microsoft365"
)

// The admin JSON API mirrors the console for automation. It accepts an
// admin session (with the X-CSRF-Token header on changes) or an admin API
// token as "Authorization: Bearer ggt_...".
func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/admin/microsoft365", s.api(s.apiGetM365))
	mux.HandleFunc("PUT /api/v1/admin/microsoft365", s.api(s.apiPutM365))
	mux.HandleFunc("DELETE /api/v1/admin/microsoft365", s.api(s.apiDeleteM365))
	mux.HandleFunc("POST /api/v1/admin/microsoft365/rotate", s.api(s.apiRotateM365))
	mux.HandleFunc("POST /api/v1/admin/microsoft365/enable", s.api(s.apiEnableM365(true)))
	mux.HandleFunc("POST /api/v1/admin/microsoft365/disable", s.api(s.apiEnableM365(false)))
	mux.HandleFunc("GET /api/v1/admin/microsoft365/capabilities", s.api(s.apiGetCapabilities))
	mux.HandleFunc("PUT /api/v1/admin/microsoft365/capabilities", s.api(s.apiPutCapabilities))
	mux.HandleFunc("GET /api/v1/admin/users", s.api(s.apiListUsers))
	mux.HandleFunc("POST /api/v1/admin/users", s.api(s.apiCreateUser))
	mux.HandleFunc("PATCH /api/v1/admin/users/{id}", s.api(s.apiPatchUser))
	mux.HandleFunc("DELETE /api/v1/admin/users/{id}", s.api(s.apiDeleteUser))
	mux.HandleFunc("GET /api/v1/admin/audit", s.api(s.apiAudit))
	mux.HandleFunc("GET /api/v1/admin/signin", s.api(s.apiGetSignIn))
	mux.HandleFunc("PUT /api/v1/admin/signin", s.api(s.apiPutSignIn))
	mux.HandleFunc("GET /api/v1/admin/links", s.api(s.apiLinks))
	mux.HandleFunc("POST /api/v1/admin/users/{id}/reconnect", s.api(s.apiAskReconnect))
	mux.HandleFunc("GET /api/v1/admin/oauth", s.api(s.apiGetOAuth))
	mux.HandleFunc("PUT /api/v1/admin/oauth", s.api(s.apiPutOAuth))
	mux.HandleFunc("GET /api/v1/admin/oauth/grants", s.api(s.apiGrants))
	mux.HandleFunc("DELETE /api/v1/admin/oauth/grants/{id}", s.api(s.apiRevokeGrant))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, graphgate.Errorf(graphgate.ENOTFOUND, "No API endpoint %s %s.", r.Method, r.URL.Path), nil)
	})
}

type apiHandler func(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error)

// api authenticates an admin and writes the handler's result as JSON.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.apiActor(r)
		if err != nil {
			if graphgate.ErrorCode(err) == graphgate.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="graphgate admin API"`)
			}
			writeAPIError(w, err, nil)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		out, err := h(w, r, actor)
		if err != nil {
			if httpStatus(graphgate.ErrorCode(err)) == http.StatusInternalServerError && admin.FieldErrorsOf(err) == nil {
				s.log.Error("admin API", "route", r.Pattern, "err", err)
			}
			writeAPIError(w, err, admin.FieldErrorsOf(err))
			return
		}
		status := http.StatusOK
		if r.Method == http.MethodPost && strings.HasSuffix(r.Pattern, "/users") {
			status = http.StatusCreated
		}
		writeJSONBody(w, status, out)
	}
}

func (s *Server) apiActor(r *http.Request) (*graphgate.User, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		raw, ok := apitoken.FromHeader(h)
		if !ok {
			return nil, graphgate.Errorf(graphgate.EUNAUTHORIZED, "Send an admin API token as Authorization: Bearer ggt_....")
		}
		return s.adminByToken(r.Context(), raw)
	}
	sc := s.lookupSession(r)
	if sc == nil {
		return nil, graphgate.Errorf(graphgate.EUNAUTHORIZED, "Sign in, or send an admin API token as Authorization: Bearer ggt_....")
	}
	if !sc.user.IsAdmin() {
		return nil, graphgate.Errorf(graphgate.EFORBIDDEN, "The admin API is for admins.")
	}
	if r.Method != http.MethodGet && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(sc.session.CSRF)) != 1 {
		return nil, graphgate.Errorf(graphgate.EFORBIDDEN, "Changes made with a session cookie need the X-CSRF-Token header.")
	}
	return sc.user, nil
}

// adminByToken resolves an admin API token. Its owner must still be an admin.
func (s *Server) adminByToken(ctx context.Context, raw string) (*graphgate.User, error) {
	p, err := s.tokens.Check(ctx, raw, graphgate.TokenAdmin)
	switch {
	case errors.Is(err, apitoken.ErrInvalid):
		return nil, graphgate.Errorf(graphgate.EUNAUTHORIZED, "The API token is not valid, has expired or was revoked.")
	case err != nil:
		return nil, err
	case !p.User.IsAdmin():
		return nil, graphgate.Errorf(graphgate.EFORBIDDEN, "The token's owner is no longer an admin.")
	}
	return p.User, nil
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, err error, fields graphgate.FieldErrors) {
	code, status := graphgate.ErrorCode(err), httpStatus(graphgate.ErrorCode(err))
	msg := graphgate.ErrorMessage(err)
	if fields != nil {
		code, status, msg = graphgate.EINVALID, http.StatusUnprocessableEntity, "Some fields are not valid."
	}
	body := map[string]any{"code": code, "message": msg}
	if fields != nil {
		body["fields"] = fields
	}
	writeJSONBody(w, status, map[string]any{"error": body})
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return graphgate.Errorf(graphgate.EINVALID, "The request body is too large.")
		}
		return graphgate.Errorf(graphgate.EINVALID, "The request body is not valid JSON for this endpoint: %v.", err)
	}
	return nil
}

// m365JSON is the integration as the API shows it: never the secret.
type m365JSON struct {
	Status          graphgate.M365Status `json:"status"`
	ClientID        string               `json:"clientId,omitempty"`
	RedirectURI     string               `json:"redirectUri,omitempty"`
	SecretHint      string               `json:"secretHint,omitempty"`
	SecretSetAt     *time.Time           `json:"secretSetAt,omitempty"`
	SecretExpiresAt *time.Time           `json:"secretExpiresAt,omitempty"`
	Enabled         bool                 `json:"enabled"`
	Attention       string               `json:"attention,omitempty"`
	LinkedAccounts  int                  `json:"linkedAccounts"`
	CallbackURL     string               `json:"expectedRedirectUri"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) m365View(ctx context.Context, cfg *graphgate.M365Config) (any, error) {
	links, err := s.store.CountLinks(ctx)
	if err != nil {
		return nil, err
	}
	v := m365JSON{Status: cfg.Status(), LinkedAccounts: links, CallbackURL: s.cfg.CallbackURL()}
	if cfg != nil {
		v.ClientID, v.RedirectURI, v.SecretHint, v.Enabled, v.Attention = cfg.ClientID, cfg.RedirectURI, cfg.SecretHint, cfg.Enabled, cfg.Attention
		v.SecretSetAt, v.SecretExpiresAt = timePtr(cfg.SecretSetAt), timePtr(cfg.SecretExpiresAt)
	}
	return v, nil
}

func (s *Server) apiGetM365(w http.ResponseWriter, r *http.Request, _ *graphgate.User) (any, error) {
	cfg, err := s.currentM365(r)
	if err != nil {
		return nil, err
	}
	return s.m365View(r.Context(), cfg)
}

type m365Input struct {
	ClientID        string `json:"clientId"`
	ClientSecret    string `json:"clientSecret"`
	RedirectURI     string `json:"redirectUri"`
	SecretExpiresAt string `json:"secretExpiresAt"`
}

func (s *Server) apiPutM365(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in m365Input
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	cfg, err := s.admin.ConfigureM365(r.Context(), actor, microsoft365.Setup{ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		RedirectURI: in.RedirectURI, SecretExpires: in.SecretExpiresAt})
	if err != nil {
		return nil, err
	}
	return s.m365View(r.Context(), cfg)
}

func (s *Server) apiRotateM365(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in struct {
		ClientSecret    string `json:"clientSecret"`
		SecretExpiresAt string `json:"secretExpiresAt"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	cfg, err := s.admin.RotateM365Secret(r.Context(), actor, in.ClientSecret, in.SecretExpiresAt)
	if err != nil {
		return nil, err
	}
	return s.m365View(r.Context(), cfg)
}

func (s *Server) apiEnableM365(enabled bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
		cfg, err := s.admin.SetM365Enabled(r.Context(), actor, enabled)
		if err != nil {
			return nil, err
		}
		return s.m365View(r.Context(), cfg)
	}
}

func (s *Server) apiDeleteM365(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	n, err := s.admin.RemoveM365(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	return map[string]int{"deletedLinks": n}, nil
}

type userJSON struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	OnboardedAt *time.Time `json:"onboardedAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
}

func userView(u *graphgate.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), OnboardedAt: timePtr(u.OnboardedAt), CreatedAt: u.CreatedAt}
}

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request, _ *graphgate.User) (any, error) {
	list, err := s.store.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]userJSON, len(list))
	for i, u := range list {
		out[i] = userView(u)
	}
	return map[string]any{"users": out}, nil
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = string(graphgate.RoleUser)
	}
	u, err := s.admin.CreateUser(r.Context(), actor, admin.NewUser{Email: in.Email, Name: in.Name, Password: in.Password, Role: graphgate.Role(in.Role)})
	if err != nil {
		return nil, err
	}
	return userView(u), nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, graphgate.Errorf(graphgate.ENOTFOUND, "No such user.")
	}
	return id, nil
}

func (s *Server) apiPatchUser(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Role            *string `json:"role"`
		Password        *string `json:"password"`
		ResetOnboarding bool    `json:"resetOnboarding"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if in.Password != nil {
		if msg := passwordProblem(*in.Password); msg != "" {
			return nil, &admin.ErrInvalid{Fields: graphgate.FieldErrors{admin.FieldPassword: msg}}
		}
	}
	if in.Role != nil {
		if u, err = s.admin.SetRole(r.Context(), actor, id, graphgate.Role(*in.Role)); err != nil {
			return nil, err
		}
	}
	if in.Password != nil {
		if u, err = s.admin.ResetPassword(r.Context(), actor, id, *in.Password); err != nil {
			return nil, err
		}
	}
	if in.ResetOnboarding {
		if u, err = s.admin.ResetOnboarding(r.Context(), actor, id); err != nil {
			return nil, err
		}
	}
	return userView(u), nil
}

func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	if err := s.admin.RemoveUser(r.Context(), actor, id); err != nil {
		return nil, err
	}
	return map[string]bool{"deleted": true}, nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ *graphgate.User) (any, error) {
	f, d, err := auditFilter(r)
	if err != nil {
		return nil, err
	}
	f.Limit, f.Offset = auditPageSize, (d.Page-1)*auditPageSize
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return nil, graphgate.Errorf(graphgate.EINVALID, "limit must be between 1 and 500.")
		}
		f.Limit, f.Offset = n, (d.Page-1)*n
	}
	events, total, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(events))
	for _, e := range events {
		details := e.Details
		if details == nil {
			details = map[string]string{}
		}
		out = append(out, map[string]any{"id": e.ID, "at": e.At, "actorId": e.ActorID, "actorEmail": e.ActorEmail,
			"action": e.Action, "target": e.Target, "details": details})
	}
	return map[string]any{"events": out, "total": total, "page": d.Page}, nil
}

func oauthJSON(st *graphgate.OAuthSettings) map[string]any {
	hosts := st.ClientHosts
	if hosts == nil {
		hosts = []string{}
	}
	return map[string]any{"registration": st.Registration, "clientHosts": hosts}
}

func (s *Server) apiGetOAuth(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	st, err := s.store.OAuthSettings(r.Context())
	if err != nil {
		return nil, err
	}
	return oauthJSON(st), nil
}

func (s *Server) apiPutOAuth(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in struct {
		Registration *bool    `json:"registration"`
		ClientHosts  []string `json:"clientHosts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Registration == nil {
		return nil, graphgate.Errorf(graphgate.EINVALID, `Send {"registration": true|false, "clientHosts": ["claude.ai", ...]}.`)
	}
	st, err := s.admin.SetOAuthSettings(r.Context(), actor, *in.Registration, strings.Join(in.ClientHosts, ","))
	if err != nil {
		return nil, err
	}
	return oauthJSON(st), nil
}

func (s *Server) apiGrants(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	grants, err := s.store.Grants(r.Context(), 0)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, g := range grants {
		out = append(out, map[string]any{"id": g.ID, "userId": g.UserID, "clientId": g.ClientID, "clientName": g.ClientName,
			"redirectHost": g.RedirectHost, "scopes": g.Scopes, "createdAt": g.CreatedAt, "lastUsedAt": g.LastUsedAt, "expiresAt": timePtr(g.ExpiresAt)})
	}
	return map[string]any{"grants": out}, nil
}

func (s *Server) apiRevokeGrant(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, graphgate.Errorf(graphgate.ENOTFOUND, "No such grant.")
	}
	if err := s.store.RevokeGrant(r.Context(), 0, id); err != nil {
		return nil, err
	}
	if err := s.admin.Record(r.Context(), actor, graphgate.ActionOAuthRevoke, strconv.FormatInt(id, 10), nil); err != nil {
		return nil, err
	}
	return map[string]any{"revoked": id}, nil
}

func signInJSON(st *graphgate.SignInSettings) map[string]any {
	list := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return map[string]any{"microsoft": st.Microsoft, "who": st.Who, "tenants": list(st.Tenants), "personal": st.Personal,
		"domains": list(st.Domains), "adminEmails": list(st.AdminEmails), "adminRole": st.AdminRole, "passwords": st.Passwords,
		"breakGlass": list(st.BreakGlass)}
}

func (s *Server) apiGetSignIn(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	st, err := s.store.SignInSettings(r.Context())
	if err != nil {
		return nil, err
	}
	return signInJSON(st), nil
}

func (s *Server) apiPutSignIn(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in struct {
		Microsoft   bool     `json:"microsoft"`
		Who         string   `json:"who"`
		Tenants     []string `json:"tenants"`
		Personal    bool     `json:"personal"`
		Domains     []string `json:"domains"`
		AdminEmails []string `json:"adminEmails"`
		AdminRole   string   `json:"adminRole"`
		Passwords   *bool    `json:"passwords"`
		BreakGlass  []string `json:"breakGlass"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Passwords == nil {
		return nil, graphgate.Errorf(graphgate.EINVALID, `Send the whole rules: {"microsoft", "who", "tenants", "personal", "domains", "adminEmails", "adminRole", "passwords", "breakGlass"}.`)
	}
	st, err := s.admin.SetSignInSettings(r.Context(), actor, s.cfg.M365Authority, admin.SignInForm{Microsoft: in.Microsoft, Who: in.Who,
		Tenants: strings.Join(in.Tenants, ","), Personal: in.Personal, Domains: strings.Join(in.Domains, ","),
		AdminEmails: strings.Join(in.AdminEmails, ","), AdminRole: in.AdminRole, Passwords: *in.Passwords, BreakGlass: strings.Join(in.BreakGlass, ",")})
	if err != nil {
		return nil, err
	}
	return signInJSON(st), nil
}

func (s *Server) apiLinks(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains(healthStates, state) {
		return nil, &admin.ErrInvalid{Fields: graphgate.FieldErrors{"state": "Choose one of " + strings.Join(healthStates, ", ") + "."}}
	}
	rows, err := s.linkHealth(r.Context(), users, state)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, row := range rows {
		v := map[string]any{"userId": row.User.ID, "email": row.User.Email, "state": row.State, "reason": row.Reason,
			"agentTokens": row.Tokens, "connectedApps": row.Apps, "askedToReconnectAt": timePtr(row.User.ReconnectAskedAt)}
		if l := row.Link; l != nil {
			v["account"], v["personal"], v["linkedAt"] = l.Username, l.Personal, timePtr(l.LinkedAt)
			v["lastGraphCallAt"], v["lastRefreshAt"] = timePtr(l.LastGraphAt), timePtr(l.LastRefreshAt)
			v["lastError"], v["lastErrorAt"] = l.LastError, timePtr(l.LastErrorAt)
		}
		out = append(out, v)
	}
	return map[string]any{"links": out}, nil
}

func (s *Server) apiAskReconnect(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, graphgate.Errorf(graphgate.ENOTFOUND, "No such user.")
	}
	u, err := s.admin.AskToReconnect(r.Context(), actor, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"userId": u.ID, "askedToReconnectAt": u.ReconnectAskedAt}, nil
}
