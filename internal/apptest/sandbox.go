package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/sandboxtest"
)

// UserPassword is the password of the users StartWithSandbox makes.
const UserPassword = "user-password-1"

// Linked is a graphgate wired to a sandbox tenant of its own.
type Linked struct {
	*Server
	Sandbox    *sandbox.Sandbox
	SandboxURL string
}

// StartWithSandbox runs a sandbox and a graphgate that uses it for login and
// Graph, with Microsoft 365 configured for the sandbox's app and a user for
// every sandbox person but the admin.
func StartWithSandbox(t testing.TB, env map[string]string, opts sandbox.Options) *Linked {
	t.Helper()
	sbSrv := httptest.NewUnstartedServer(nil)
	sbURL := "http://" + sbSrv.Listener.Addr().String()
	merged := map[string]string{"GRAPHGATE_M365_LOGIN_URL": sbURL, "GRAPHGATE_M365_GRAPH_URL": sbURL}
	for k, v := range env {
		merged[k] = v
	}
	srv := Start(t, merged)
	callback := srv.URL + "/api/v1/microsoft365/auth/callback"
	opts.RedirectURIs = []string{callback}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sbSrv.Config.Handler = sb
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)
	if _, err := srv.App.Web.Admin().ConfigureM365(context.Background(), nil, microsoft365.Setup{ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RedirectURI: callback}); err != nil {
		t.Fatal(err)
	}
	for _, p := range sb.Directory.People() {
		if p.UPN == AdminEmail || p.NewToGraphgate {
			continue
		}
		if _, err := srv.App.Web.Admin().CreateUser(context.Background(), nil, admin.NewUser{Email: p.UPN, Name: p.DisplayName,
			Password: UserPassword, Role: graphgate.RoleUser}); err != nil {
			t.Fatal(err)
		}
	}
	return &Linked{Server: srv, Sandbox: sb, SandboxURL: sbURL}
}

// AtMicrosoft walks the sandbox's account picker and consent page as the
// person would (decision "accept" or "cancel") and returns the URL the
// sandbox sends the browser back to.
func (l *Linked) AtMicrosoft(t testing.TB, authURL, account, decision string) string {
	t.Helper()
	back, err := sandboxtest.SignIn(authURL, account, decision)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// Link runs Link Account end to end for a signed-in client and returns
// graphgate's answer to the callback.
func (l *Linked) Link(t testing.TB, c *Client, account, decision string) Response {
	t.Helper()
	c.Get("/integrations")
	r := c.Post("/integrations/microsoft365/link", nil)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, l.SandboxURL) {
		t.Fatalf("Link Account: %d %s", r.Status, r.Location)
	}
	back := l.AtMicrosoft(t, r.Location, account, decision)
	if !strings.HasPrefix(back, l.URL+"/api/v1/microsoft365/auth/callback?") {
		t.Fatalf("Microsoft sent the browser to %s", back)
	}
	return c.Get(strings.TrimPrefix(back, l.URL))
}

// SignInAndLink signs a sandbox person in to graphgate and links their own
// Microsoft account; it returns their graphgate user id.
func (l *Linked) SignInAndLink(t testing.TB, email string) int64 {
	t.Helper()
	c := l.NewClient()
	c.SignIn(email, UserPassword)
	if r := l.Link(t, c, email, "accept"); r.Status != http.StatusSeeOther {
		t.Fatalf("linking %s: %d", email, r.Status)
	}
	u, err := l.App.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.App.Store.Link(context.Background(), u.ID); err != nil {
		t.Fatalf("%s is not linked: %v", email, err)
	}
	return u.ID
}

// AllowMore runs the tile's "Allow at Microsoft" end to end for a signed-in
// client (decision "accept" or "cancel" at Microsoft) and returns
// graphgate's answer to the callback.
func (l *Linked) AllowMore(t testing.TB, c *Client, account, decision string) Response {
	t.Helper()
	c.Get("/integrations")
	r := c.Post("/integrations/microsoft365/allow", nil)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, l.SandboxURL) {
		t.Fatalf("Allow at Microsoft: %d %s", r.Status, r.Location)
	}
	return l.Back(t, c, l.AtMicrosoft(t, r.Location, account, decision))
}

// Back follows the sandbox's redirect to graphgate's callback.
func (l *Linked) Back(t testing.TB, c *Client, back string) Response {
	t.Helper()
	if !strings.HasPrefix(back, l.URL+"/api/v1/microsoft365/auth/callback?") {
		t.Fatalf("Microsoft sent the browser to %s", back)
	}
	return c.Get(strings.TrimPrefix(back, l.URL))
}

// GrantForOrganisation runs the MCP Servers tab's "Grant for my
// organisation at Microsoft" end to end, Contoso's Global Administrator
// accepting: every permission of the base set and the capabilities on,
// admin-only ones included, for everyone in Contoso. It returns the
// admin's signed-in client.
func (l *Linked) GrantForOrganisation(t testing.TB) *Client {
	t.Helper()
	admin := l.NewClient()
	admin.SignIn(AdminEmail, AdminPassword)
	admin.Get("/admin/servers")
	r := admin.Post("/admin/servers/microsoft365/admin-consent", nil)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location, "/v2.0/adminconsent?") {
		t.Fatalf("admin consent: %d %s", r.Status, r.Location)
	}
	back, err := sandboxtest.AdminConsent(r.Location, "admin@contoso.test", "accept")
	if err != nil {
		t.Fatal(err)
	}
	if r := l.Back(t, admin, back); r.Status != http.StatusSeeOther {
		t.Fatalf("back from admin consent: %d", r.Status)
	}
	return admin
}
