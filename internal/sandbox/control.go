package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/identity"
)

// The control API under /sandbox/ lets tests and people make the tenant
// misbehave. It is documented in the README.
func (sb *Sandbox) registerControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/", sb.overview)
	mux.HandleFunc("GET /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": sb.trouble.list()})
	})
	mux.HandleFunc("POST /sandbox/faults", sb.addFault)
	mux.HandleFunc("DELETE /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		sb.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /sandbox/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !sb.trouble.remove(r.PathValue("id")) {
			writeProblem(w, http.StatusNotFound, "no fault with id "+r.PathValue("id"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"requests": sb.Requests()})
	})
	mux.HandleFunc("DELETE /sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		sb.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/people/{person}/{action}", sb.personAction)
	mux.HandleFunc("POST /sandbox/app/secrets", sb.secretAction)
	mux.HandleFunc("PUT /sandbox/people/{person}/roles", sb.personRoles)
	mux.HandleFunc("PUT /sandbox/app/assignment", sb.assignment)
	mux.HandleFunc("PUT /sandbox/tenants/{tenant}/user-consent", sb.userConsent)
	mux.HandleFunc("DELETE /sandbox/tenants/{tenant}/admin-consent", sb.revokeAdminConsent)
}

// userConsent handles PUT /sandbox/tenants/{id or domain}/user-consent with
// {"allowed":false}: the tenant's people may no longer consent for
// themselves (Entra's "Do not allow user consent"); only an admin may.
func (sb *Sandbox) userConsent(w http.ResponseWriter, r *http.Request) {
	t, ok := sb.Directory.Tenant(r.PathValue("tenant"))
	var in struct {
		Allowed *bool `json:"allowed"`
	}
	switch {
	case !ok || t.Personal:
		writeProblem(w, http.StatusNotFound, "no sandbox work tenant "+r.PathValue("tenant"))
		return
	case json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&in) != nil || in.Allowed == nil:
		writeProblem(w, http.StatusBadRequest, `send {"allowed":true|false}`)
		return
	}
	sb.Identity.SetUserConsent(t, *in.Allowed)
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t.Domain, "userConsent": *in.Allowed})
}

// revokeAdminConsent handles DELETE /sandbox/tenants/{id or domain}/admin-consent.
func (sb *Sandbox) revokeAdminConsent(w http.ResponseWriter, r *http.Request) {
	t, ok := sb.Directory.Tenant(r.PathValue("tenant"))
	if !ok || t.Personal {
		writeProblem(w, http.StatusNotFound, "no sandbox work tenant "+r.PathValue("tenant"))
		return
	}
	sb.Identity.RevokeAdminConsent(t)
	w.WriteHeader(http.StatusNoContent)
}

func (sb *Sandbox) overview(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/sandbox/" {
		writeProblem(w, http.StatusNotFound, "unknown control endpoint "+r.URL.Path)
		return
	}
	app := sb.Identity.App()
	var people []map[string]any
	for _, p := range sb.Directory.People() {
		people = append(people, map[string]any{"upn": p.UPN, "displayName": p.DisplayName, "oid": p.ObjectID,
			"tid": p.Tenant.ID, "tenant": p.Tenant.Name, "personal": p.Personal(), "timeZone": p.TimeZone})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"app": map[string]any{"clientId": app.ClientID, "redirectUris": app.RedirectURIs,
			"singleTenant": app.SingleTenant, "secrets": app.Secrets},
		"people": people,
		"faults": sb.trouble.list(),
	})
}

func (sb *Sandbox) addFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeProblem(w, http.StatusBadRequest, "fault: "+err.Error())
		return
	}
	got, err := sb.AddFault(f)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "fault: "+err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

// personRoles handles PUT /sandbox/people/{upn or oid}/roles with
// {"roles":["graphgate.admin"]}: the person's app roles.
func (sb *Sandbox) personRoles(w http.ResponseWriter, r *http.Request) {
	p, ok := sb.Directory.Person(r.PathValue("person"))
	if !ok {
		writeProblem(w, http.StatusNotFound, "no sandbox person "+r.PathValue("person"))
		return
	}
	var in struct {
		Roles []string `json:"roles"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		writeProblem(w, http.StatusBadRequest, `send {"roles":["value", ...]}`)
		return
	}
	sb.Identity.AssignRoles(p, in.Roles)
	writeJSON(w, http.StatusOK, map[string]any{"person": p.UPN, "roles": in.Roles})
}

// assignment handles PUT /sandbox/app/assignment with {"required":true}.
func (sb *Sandbox) assignment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Required *bool `json:"required"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&in); err != nil || in.Required == nil {
		writeProblem(w, http.StatusBadRequest, `send {"required":true|false}`)
		return
	}
	sb.Identity.RequireAssignment(*in.Required)
	writeJSON(w, http.StatusOK, map[string]any{"assignmentRequired": *in.Required})
}

// personAction handles POST /sandbox/people/{upn or oid}/{action}.
func (sb *Sandbox) personAction(w http.ResponseWriter, r *http.Request) {
	p, ok := sb.Directory.Person(r.PathValue("person"))
	if !ok {
		writeProblem(w, http.StatusNotFound, "no sandbox person "+r.PathValue("person"))
		return
	}
	actions := map[string]func(*directory.Person) int{
		// Refresh fails with AADSTS50173, as after a password reset.
		"revoke": sb.Identity.RevokeGrants,
		// Refresh fails with AADSTS700082, as after 90 days unused.
		"expire-grants": sb.Identity.ExpireGrants,
		// Refresh fails with AADSTS65001 and consent is asked again.
		"withdraw-consent": sb.Identity.WithdrawConsent,
		// Refresh fails with AADSTS50076: sign in again with MFA.
		"require-mfa": sb.Identity.RequireMFA,
		// Refresh fails with AADSTS50079: register MFA, then sign in.
		"require-mfa-enrollment": sb.Identity.RequireMFAEnrollment,
		// Refresh fails with AADSTS53003: a Conditional Access policy blocks it.
		"block-conditional-access": sb.Identity.BlockByPolicy,
		// Access tokens already issued answer 401 at Graph.
		"expire-access-tokens": sb.Identity.ExpireAccessTokens,
		// Every OneDrive delta token issued so far answers 410 resyncRequired.
		"drive-resync": func(p *directory.Person) int {
			mb, _ := sb.Graph.Store().Mailbox(p.ObjectID)
			mb.ForceResync()
			return 1
		},
		// Every message and calendar delta token issued so far answers 410.
		"outlook-resync": func(p *directory.Person) int {
			mb, _ := sb.Graph.Store().Mailbox(p.ObjectID)
			mb.ForgetOutlookDeltas()
			return 1
		},
	}
	act, ok := actions[r.PathValue("action")]
	if !ok {
		writeProblem(w, http.StatusNotFound, "unknown action "+r.PathValue("action")+
			"; use revoke, expire-grants, withdraw-consent, require-mfa, require-mfa-enrollment, block-conditional-access, expire-access-tokens, drive-resync or outlook-resync")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": p.UPN, "action": r.PathValue("action"), "affected": act(p)})
}

// secretAction handles POST /sandbox/app/secrets with
// {"action":"add"|"replace"|"expire", "value":"...", "expires":"RFC 3339"}.
func (sb *Sandbox) secretAction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Action  string `json:"action"`
		Value   string `json:"value"`
		Expires string `json:"expires"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		writeProblem(w, http.StatusBadRequest, "secrets: "+err.Error())
		return
	}
	var expires time.Time
	if in.Expires != "" {
		var err error
		if expires, err = time.Parse(time.RFC3339, in.Expires); err != nil {
			writeProblem(w, http.StatusBadRequest, "secrets: expires must be an RFC 3339 time")
			return
		}
	}
	var sec identity.Secret
	switch in.Action {
	case "add":
		sec = sb.Identity.AddSecret(in.Value, expires)
	case "replace":
		sec = sb.Identity.ReplaceSecrets(in.Value, expires)
	case "expire":
		sb.Identity.ExpireSecrets()
		writeJSON(w, http.StatusOK, map[string]any{"secrets": sb.Identity.App().Secrets})
		return
	default:
		writeProblem(w, http.StatusBadRequest, `secrets: action must be "add", "replace" or "expire"`)
		return
	}
	// The control API is the one place a secret value is shown again: it is
	// the sandbox's own test credential, not a customer's.
	writeJSON(w, http.StatusOK, map[string]any{"id": sec.ID, "value": sec.Value, "expires": sec.Expires, "secrets": sb.Identity.App().Secrets})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
