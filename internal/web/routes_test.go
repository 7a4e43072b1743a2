package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// The admin routes no other test touched, each used as an admin would.
func TestAdminRoutesDoWhatTheySay(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	token, _ := adminToken(t, srv, apptest.AdminEmail, graphgate.TokenAdmin)
	c := srv.NewClient()
	auth := []string{"Authorization", "Bearer " + token}
	decode := func(r apptest.Response) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatalf("%d %s: %v", r.Status, r.Body, err)
		}
		return m
	}

	// Connected apps: listed, revoked through the API and through the console.
	pat, err := srv.App.Web.Admin().CreateUser(ctx, nil, admin.NewUser{Email: "pat@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	grants := make([]*graphgate.Grant, 2)
	for i := range grants {
		grants[i] = &graphgate.Grant{UserID: pat.ID, ClientID: "https://app.example/meta.json", ClientName: "App " + strconv.Itoa(i), RedirectHost: "app.example", Scopes: []string{"profile"}}
		if err := srv.App.Store.CreateGrant(ctx, grants[i], &graphgate.OAuthToken{Hash: "tok" + strconv.Itoa(i), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	list := c.Do("GET", "/api/v1/admin/oauth/grants", "", auth...)
	if list.Status != 200 || !strings.Contains(list.Body, "App 0") || !strings.Contains(list.Body, "App 1") {
		t.Fatalf("grants: %d %s", list.Status, list.Body)
	}
	if r := c.Do("DELETE", "/api/v1/admin/oauth/grants/"+strconv.FormatInt(grants[0].ID, 10), "", auth...); r.Status != 200 {
		t.Fatalf("revoking through the API: %d %s", r.Status, r.Body)
	}
	if _, err := srv.App.Store.OAuthAccessToken(ctx, "tok0"); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		t.Fatalf("a revoked grant's token still works: %v", err)
	}
	console := srv.NewClient()
	console.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	console.Get("/admin/servers")
	if r := console.Post("/admin/apps/"+strconv.FormatInt(grants[1].ID, 10)+"/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoking in the console: %d %s", r.Status, r.Body)
	}
	if _, err := srv.App.Store.OAuthAccessToken(ctx, "tok1"); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		t.Fatalf("the grant revoked in the console still works: %v", err)
	}
	if r := c.Do("GET", "/api/v1/admin/oauth/grants", "", auth...); strings.Contains(r.Body, "App 0") || strings.Contains(r.Body, "App 1") {
		t.Fatalf("revoked grants still listed: %s", r.Body)
	}

	// People: a role change and a removal.
	id := strconv.FormatInt(pat.ID, 10)
	if r := c.Do("PATCH", "/api/v1/admin/users/"+id, `{"role":"admin"}`, auth...); r.Status != 200 || !strings.Contains(r.Body, `"role":"admin"`) {
		t.Fatalf("PATCH user: %d %s", r.Status, r.Body)
	}
	if u, _ := srv.App.Store.UserByID(ctx, pat.ID); u.Role != graphgate.RoleAdmin {
		t.Fatalf("the role change was not stored: %s", u.Role)
	}
	if r := c.Do("DELETE", "/api/v1/admin/users/"+id, "", auth...); r.Status != 200 {
		t.Fatalf("DELETE user: %d %s", r.Status, r.Body)
	}
	if _, err := srv.App.Store.UserByID(ctx, pat.ID); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		t.Fatalf("the removed person is still there: %v", err)
	}

	// The rules, read back as set.
	if got := decode(c.Do("GET", "/api/v1/admin/signin", "", auth...)); got["who"] != graphgate.SignInExisting || got["microsoft"] != true {
		t.Fatalf("sign-in rules: %v", got)
	}
	if r := c.Do("PUT", "/api/v1/admin/oauth", `{"registration":false,"clientHosts":["claude.ai"]}`, auth...); r.Status != 200 {
		t.Fatalf("PUT oauth: %d %s", r.Status, r.Body)
	}
	if got := decode(c.Do("GET", "/api/v1/admin/oauth", "", auth...)); got["registration"] != false || len(got["clientHosts"].([]any)) != 1 {
		t.Fatalf("oauth rules: %v", got)
	}

	// Enable after disable.
	callback := srv.URL + "/api/v1/microsoft365/auth/callback"
	c.Do("PUT", "/api/v1/admin/microsoft365", `{"clientId":"`+goodClientID+`","clientSecret":"`+goodSecret+`","redirectUri":"`+callback+`"}`, auth...)
	c.Do("POST", "/api/v1/admin/microsoft365/disable", "", auth...)
	if r := c.Do("POST", "/api/v1/admin/microsoft365/enable", "", auth...); r.Status != 200 || !strings.Contains(r.Body, `"status":"active"`) {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	if cfg, err := srv.App.Store.M365Config(ctx); err != nil || !cfg.Enabled {
		t.Fatalf("enabled in the store: %+v %v", cfg, err)
	}

	// The protected-resource metadata at the root names the MCP endpoint.
	resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != 200 || meta.Resource != srv.URL+"/mcp" ||
		len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != srv.URL {
		t.Fatalf("root protected-resource metadata: %d %+v %v", resp.StatusCode, meta, err)
	}
}

// A connected app's use is recorded on its grant (at most once a minute),
// for Connected apps and link health to show.
func TestGrantLastUseIsRecorded(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	ctx := context.Background()
	g := &graphgate.Grant{UserID: uid, ClientID: "https://app.example/meta.json", ClientName: "App", RedirectHost: "app.example", Scopes: []string{"profile"}}
	access, hash := apitoken.NewAccess()
	if err := l.App.Store.CreateGrant(ctx, g, &graphgate.OAuthToken{Hash: hash, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-2 * time.Hour)
	if err := l.App.Store.TouchGrant(ctx, g.ID, long); err != nil {
		t.Fatal(err)
	}
	if status, body, _ := rawCall(t, l, access, "get_profile"); status != http.StatusOK {
		t.Fatalf("a call with the app's token: %d %s", status, body)
	}
	grants, err := l.App.Store.Grants(ctx, uid)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants: %v %v", grants, err)
	}
	if used := grants[0].LastUsedAt; !used.After(long.Add(time.Hour)) {
		t.Fatalf("the grant's last use was not recorded: %s", used)
	}
}
