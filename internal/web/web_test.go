package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/secretbox"
	"graphgate/internal/storetest"
)

const (
	goodClientID = "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59"
	goodSecret   = "sbx8Q~graphgateSandboxSecretValue0000001"
	otherSecret  = "new8Q~rotatedSecretValue00000000000000002"
)

func configureForm(redirect string) url.Values {
	return url.Values{"clientId": {goodClientID}, "clientSecret": {goodSecret}, "redirectUri": {redirect},
		"secretExpiresAt": {time.Now().AddDate(2, 0, 0).Format("2006-01-02")}}
}

func addUser(t *testing.T, admin *apptest.Client, email, role string) {
	t.Helper()
	admin.Get("/admin/users")
	r := admin.Post("/admin/users", url.Values{"email": {email}, "password": {"user-password-1"}, "role": {role}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("add user %s: %d\n%s", email, r.Status, r.Body)
	}
}

func TestSignInAndRoles(t *testing.T) {
	srv := apptest.Start(t, nil)
	anon := srv.NewClient()
	if r := anon.Get("/admin/servers"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("anonymous console: %d %s", r.Status, r.Location)
	}
	if r := anon.Do("GET", "/api/v1/admin/microsoft365", ""); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous API: %d", r.Status)
	}
	anon.Get("/login")
	if r := anon.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {"wrong"}}); r.Status != http.StatusUnauthorized ||
		!strings.Contains(r.Body, "do not match") || !strings.Contains(r.Body, apptest.AdminEmail) {
		t.Fatalf("wrong password: %d", r.Status)
	}

	admin := srv.NewClient()
	if r := admin.SignIn(apptest.AdminEmail, apptest.AdminPassword); r.Location != "/onboarding" {
		t.Fatalf("first admin sign-in goes to %s, want onboarding", r.Location)
	}
	for _, c := range admin.HTTP.Jar.Cookies(mustURL(srv.URL)) {
		if c.Name == "gg_session" && len(c.Value) < 40 {
			t.Fatal("short session token")
		}
	}
	addUser(t, admin, "alex@contoso.test", "user")

	user := srv.NewClient()
	if r := user.SignIn("alex@contoso.test", "user-password-1"); r.Location != "/connect" {
		t.Fatalf("user lands on %s", r.Location)
	}
	if r := user.Get("/connect"); r.Status != 200 || !strings.Contains(r.Body, "Not available yet: ask your admin") || strings.Contains(r.Body, "Admin Console") {
		t.Fatalf("user home: %d", r.Status)
	}
	// Whatever URL a user types, admin pages and the admin API are refused.
	for _, path := range []string{"/admin", "/admin/servers", "/admin/users", "/admin/audit", "/onboarding",
		"/admin/servers/microsoft365/edit", "/admin/servers/microsoft365/remove", "/onboarding/microsoft365"} {
		if r := user.Get(path); r.Status != http.StatusForbidden {
			t.Errorf("user GET %s: %d", path, r.Status)
		}
	}
	user.Get("/integrations")
	if r := user.Post("/admin/servers/microsoft365/edit", configureForm(srv.URL+"/api/v1/microsoft365/auth/callback")); r.Status != http.StatusForbidden {
		t.Errorf("user POST edit: %d", r.Status)
	}
	if r := user.Post("/admin/users", url.Values{"email": {"x@y.test"}, "password": {"12345678"}, "role": {"admin"}}); r.Status != http.StatusForbidden {
		t.Errorf("user POST users: %d", r.Status)
	}
	if r := user.Do("GET", "/api/v1/admin/users", ""); r.Status != http.StatusForbidden {
		t.Errorf("user API: %d", r.Status)
	}
	if n, _ := srv.App.Store.CountUsers(context.Background()); n != 2 {
		t.Fatalf("a refused request created a user: %d users", n)
	}

	// Sign out ends the session on the server, not just the cookie.
	user.Get("/integrations")
	cookies := user.HTTP.Jar.Cookies(mustURL(srv.URL))
	user.Post("/logout", nil)
	replay := srv.NewClient()
	replay.HTTP.Jar.SetCookies(mustURL(srv.URL), cookies)
	if r := replay.Get("/integrations"); r.Status != http.StatusSeeOther {
		t.Fatalf("session replayed after sign-out: %d", r.Status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestCSRFAndCookies(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := srv.NewClient()
	c.Get("/login")
	if r := c.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}, "csrf": {"forged"}}); r.Status != http.StatusForbidden {
		t.Fatalf("login with a forged token: %d", r.Status)
	}
	c.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	c.Get("/admin/servers")
	if r := c.Post("/admin/servers/microsoft365/edit", withCSRF(configureForm(srv.URL+"/api/v1/microsoft365/auth/callback"), "forged")); r.Status != http.StatusForbidden {
		t.Fatalf("form with a forged CSRF token: %d", r.Status)
	}
	if _, err := srv.App.Store.M365Config(context.Background()); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		t.Fatal("a forged form changed the configuration")
	}
	// A cross-site form post is refused by the origin check too.
	req, _ := http.NewRequest("POST", srv.URL+"/admin/servers/microsoft365/disable", strings.NewReader("csrf="+c.CSRF()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}
}

func withCSRF(v url.Values, token string) url.Values {
	v.Set("csrf", token)
	return v
}

func TestSessionCookieFlags(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := srv.NewClient()
	c.Get("/login")
	form := url.Values{"email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}, "csrf": {c.CSRF()}}
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "gg_session" {
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
				t.Fatalf("cookie flags: %+v", ck)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
	// Behind https (TLS ends at a proxy that forwards the public Host),
	// every cookie is Secure. A cookie jar would not send Secure cookies
	// over the test's plain http, so the cookies travel by hand.
	secure := apptest.Start(t, map[string]string{"GRAPHGATE_BASE_URL": "https://gg.example.com"})
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get, _ := http.NewRequest("GET", secure.URL+"/login", nil)
	get.Host = "gg.example.com"
	page, err := plain.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	var loginCSRF *http.Cookie
	for _, ck := range page.Cookies() {
		if ck.Name == "gg_login_csrf" {
			loginCSRF = ck
		}
	}
	if page.StatusCode != http.StatusOK || loginCSRF == nil || !loginCSRF.Secure {
		t.Fatalf("the sign-in page behind https: %d, csrf cookie %+v", page.StatusCode, loginCSRF)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatal("no csrf field on the sign-in page")
	}
	form.Set("csrf", string(m[1]))
	req, _ = http.NewRequest("POST", secure.URL+"/login", strings.NewReader(form.Encode()))
	req.Host = "gg.example.com"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCSRF.Name, Value: loginCSRF.Value})
	resp, err = plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sawSession := false
	for _, ck := range resp.Cookies() {
		if ck.Name == "gg_session" {
			sawSession = true
			if !ck.Secure || !ck.HttpOnly {
				t.Fatalf("session cookie behind https: %+v", ck)
			}
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !sawSession {
		t.Fatalf("signing in behind https: %d, session cookie %v", resp.StatusCode, sawSession)
	}
}

func TestLoginRateLimit(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := srv.NewClient()
	for i := range 5 {
		c.Get("/login")
		if r := c.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {"guess"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	c.Get("/login")
	if r := c.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}}); r.Status != http.StatusTooManyRequests ||
		!strings.Contains(r.Body, "Too many failed sign-ins") {
		t.Fatalf("after 5 failures: %d", r.Status)
	}
}

func TestOnboardingFlow(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	r := admin.Get("/onboarding")
	for _, want := range []string{"Set your company&#39;s tools", "Email", "Calendar", "Files", "Microsoft 365"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("tools page lacks %q", want)
		}
	}
	r = admin.Get("/onboarding/microsoft365")
	callback := srv.URL + "/api/v1/microsoft365/auth/callback"
	if !strings.Contains(r.Body, `value="`+callback+`"`) || !strings.Contains(r.Body, ">Enable<") {
		t.Fatalf("form is not prefilled with the callback URL:\n%s", r.Body)
	}
	// Wrong values: errors next to the fields, what was typed kept, secret not.
	bad := url.Values{"clientId": {"my-app"}, "clientSecret": {"0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}, "redirectUri": {"http://gg.example.com/cb"}}
	r = admin.Post("/onboarding/microsoft365", bad)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", r.Status)
	}
	for _, want := range []string{"The client ID is a GUID", "looks like the Secret ID", "must use https", `value="my-app"`, `value="http://gg.example.com/cb"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("bad form page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d") {
		t.Error("the typed secret was rendered back")
	}
	if _, err := srv.App.Store.M365Config(context.Background()); err == nil {
		t.Fatal("a refused form was saved")
	}
	r = admin.Post("/onboarding/microsoft365", configureForm(callback))
	if r.Status != http.StatusSeeOther || r.Location != "/onboarding/done" {
		t.Fatalf("good form: %d %s\n%s", r.Status, r.Location, r.Body)
	}
	admin.Get("/onboarding/done")
	if r := admin.Post("/onboarding/finish", nil); r.Location != "/admin/servers" {
		t.Fatalf("done: %s", r.Location)
	}
	// Not shown again at the next sign-in.
	again := srv.NewClient()
	if r := again.SignIn(apptest.AdminEmail, apptest.AdminPassword); r.Location != "/admin/servers" {
		t.Fatalf("second sign-in goes to %s", r.Location)
	}
	cfg, err := srv.App.Store.M365Config(context.Background())
	if err != nil || cfg.ClientSecret != goodSecret || cfg.Status() != graphgate.StatusActive || cfg.SecretHint != "…0001" {
		t.Fatalf("saved: %+v %v", cfg, err)
	}
}

func TestOnboardingCanBeSkipped(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	admin.Get("/onboarding")
	if r := admin.Post("/onboarding/skip", nil); r.Location != "/admin/servers" {
		t.Fatalf("skip: %s", r.Location)
	}
	if r := srv.NewClient().SignIn(apptest.AdminEmail, apptest.AdminPassword); r.Location != "/admin/servers" {
		t.Fatalf("after skipping: %s", r.Location)
	}
	// Reset onboarding brings it back.
	admin.Get("/admin/users")
	u, _ := srv.App.Store.UserByEmail(context.Background(), apptest.AdminEmail)
	admin.Post("/admin/users/"+itoa(u.ID)+"/onboarding", nil)
	if r := srv.NewClient().SignIn(apptest.AdminEmail, apptest.AdminPassword); r.Location != "/onboarding" {
		t.Fatalf("after reset: %s", r.Location)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestServersConsole(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	r := admin.Get("/admin/servers")
	if !strings.Contains(r.Body, "not configured") || !strings.Contains(r.Body, `id="configure"`) {
		t.Fatalf("unconfigured console:\n%s", r.Body)
	}
	callback := srv.URL + "/api/v1/microsoft365/auth/callback"
	admin.Get("/admin/servers/microsoft365/edit")
	if r := admin.Post("/admin/servers/microsoft365/edit", configureForm(callback)); r.Status != http.StatusSeeOther {
		t.Fatalf("configure: %d\n%s", r.Status, r.Body)
	}
	r = admin.Get("/admin/servers")
	for _, want := range []string{`id="m365-status">active<`, "…0001", goodClientID, `id="linked-count">0<`, "Microsoft 365 settings saved."} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if strings.Contains(r.Body, goodSecret) {
		t.Fatal("the console renders the secret")
	}
	// Edit with an empty secret keeps it.
	edit := configureForm(callback)
	edit.Set("clientSecret", "")
	admin.Get("/admin/servers/microsoft365/edit")
	if r := admin.Post("/admin/servers/microsoft365/edit", edit); r.Status != http.StatusSeeOther {
		t.Fatalf("an edit without a new secret: %d\n%s", r.Status, r.Body)
	}
	if cfg, err := srv.App.Store.M365Config(context.Background()); err != nil || cfg.ClientSecret != goodSecret {
		t.Fatal("an empty secret on edit replaced the secret")
	}
	// Rotate: the same secret is refused, a new one takes effect at once.
	admin.Get("/admin/servers/microsoft365/rotate")
	if r := admin.Post("/admin/servers/microsoft365/rotate", url.Values{"clientSecret": {goodSecret}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("rotate to the same secret: %d", r.Status)
	}
	r = admin.Post("/admin/servers/microsoft365/rotate", url.Values{"clientSecret": {otherSecret}, "secretExpiresAt": {time.Now().AddDate(0, 0, 20).Format("2006-01-02")}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d\n%s", r.Status, r.Body)
	}
	if cfg, _ := srv.App.Store.M365Config(context.Background()); cfg.ClientSecret != otherSecret {
		t.Fatal("rotation not stored")
	}
	// Within 30 days of the expiry, every admin page warns.
	for _, p := range []string{"/admin/servers", "/admin/users", "/admin/audit"} {
		if r := admin.Get(p); !strings.Contains(r.Body, "client secret expires in 20 days") && !strings.Contains(r.Body, "client secret expires in 21 days") {
			t.Errorf("%s lacks the expiry banner", p)
		}
	}
	// Disable and enable.
	admin.Get("/admin/servers")
	admin.Post("/admin/servers/microsoft365/disable", nil)
	if r := admin.Get("/admin/servers"); !strings.Contains(r.Body, `id="m365-status">disabled<`) {
		t.Fatal("not disabled")
	}
	admin.Post("/admin/servers/microsoft365/enable", nil)
	// Needs attention, as the linking code sets it after AADSTS7000215.
	if err := srv.App.Web.Admin().MarkM365Attention(context.Background(), "AADSTS7000215: Invalid client secret provided."); err != nil {
		t.Fatal(err)
	}
	r = admin.Get("/admin/servers")
	if !strings.Contains(r.Body, `id="m365-status">needs attention<`) || !strings.Contains(r.Body, "AADSTS7000215") ||
		!strings.Contains(r.Body, `class="banner error"`) {
		t.Fatal("attention state not shown")
	}
	// Remove asks first and says how many links go.
	r = admin.Get("/admin/servers/microsoft365/remove")
	if !strings.Contains(r.Body, `id="remove-count">0 linked accounts<`) {
		t.Fatalf("remove confirmation:\n%s", r.Body)
	}
	if r := admin.Post("/admin/servers/microsoft365/remove", url.Values{"confirm": {"nope"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("unconfirmed remove: %d", r.Status)
	}
	admin.Get("/admin/servers/microsoft365/remove")
	admin.Post("/admin/servers/microsoft365/remove", url.Values{"confirm": {"remove"}})
	if r := admin.Get("/admin/servers"); !strings.Contains(r.Body, "not configured") {
		t.Fatal("not removed")
	}

	// The audit log has each change, never the secret.
	r = admin.Get("/admin/audit")
	for _, action := range []string{"microsoft365.configure", "microsoft365.rotate_secret", "microsoft365.disable", "microsoft365.enable",
		"microsoft365.needs_attention", "microsoft365.remove"} {
		if !strings.Contains(r.Body, action) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	if strings.Contains(r.Body, goodSecret) || strings.Contains(r.Body, otherSecret) {
		t.Fatal("the audit log shows a secret")
	}
	if r := admin.Get("/admin/audit?action=microsoft365.disable"); strings.Count(r.Body, "<code>microsoft365.") != 1 {
		t.Errorf("filter by action: %d rows", strings.Count(r.Body, "<code>microsoft365."))
	}
	if r := admin.Get("/admin/audit?since=yesterday"); r.Status != http.StatusBadRequest {
		t.Errorf("bad date filter: %d", r.Status)
	}
}

func TestAuditPagination(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	for i := range 30 {
		addUser(t, admin, "person"+itoa(int64(i))+"@contoso.test", "user")
	}
	r := admin.Get("/admin/audit")
	if !strings.Contains(r.Body, "Page 1 of 2") || !strings.Contains(r.Body, `id="older"`) {
		t.Fatalf("first page:\n%s", r.Body)
	}
	// 30 users added here and the first admin made at start: 31 entries.
	r = admin.Get("/admin/audit?page=2")
	if !strings.Contains(r.Body, "Page 2 of 2") || strings.Count(r.Body, "<code>user.create</code>") != 6 {
		t.Fatalf("second page rows: %d", strings.Count(r.Body, "<code>user.create</code>"))
	}
}

func TestUsersTab(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	admin.Get("/admin/users")
	r := admin.Post("/admin/users", url.Values{"email": {"not-an-email"}, "password": {"short"}, "role": {"user"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Give an email address") || !strings.Contains(r.Body, "at least 8") {
		t.Fatalf("bad user form: %d", r.Status)
	}
	addUser(t, admin, "sam@fabrikam.test", "user")
	admin.Get("/admin/users")
	if r := admin.Post("/admin/users", url.Values{"email": {"SAM@fabrikam.test"}, "password": {"another-pass"}, "role": {"user"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate user: %d", r.Status)
	}
	sam, _ := srv.App.Store.UserByEmail(context.Background(), "sam@fabrikam.test")
	me, _ := srv.App.Store.UserByEmail(context.Background(), apptest.AdminEmail)
	id := itoa(sam.ID)
	samClient := srv.NewClient()
	samClient.SignIn("sam@fabrikam.test", "user-password-1")

	admin.Post("/admin/users/"+id+"/role", url.Values{"role": {"admin"}})
	if u, _ := srv.App.Store.UserByID(context.Background(), sam.ID); u.Role != graphgate.RoleAdmin {
		t.Fatal("role not set")
	}
	admin.Get("/admin/users")
	admin.Post("/admin/users/"+id+"/password", url.Values{"password": {"brand-new-pass"}})
	// A password reset ends the person's sessions.
	if r := samClient.Get("/integrations"); r.Status != http.StatusSeeOther {
		t.Fatalf("old session after reset: %d", r.Status)
	}
	srv.NewClient().SignIn("sam@fabrikam.test", "brand-new-pass")
	admin.Get("/admin/users")
	if r := admin.Post("/admin/users/"+itoa(me.ID)+"/role", url.Values{"role": {"user"}}); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	if r := admin.Get("/admin/users"); !strings.Contains(r.Body, "cannot remove your own admin role") {
		t.Fatal("self-demotion not explained")
	}
	if u, _ := srv.App.Store.UserByID(context.Background(), me.ID); u.Role != graphgate.RoleAdmin {
		t.Fatal("an admin demoted themselves")
	}
	admin.Post("/admin/users/"+itoa(me.ID)+"/remove", nil)
	if _, err := srv.App.Store.UserByID(context.Background(), me.ID); err != nil {
		t.Fatal("an admin removed themselves")
	}
	admin.Get("/admin/users")
	admin.Post("/admin/users/"+id+"/remove", nil)
	if _, err := srv.App.Store.UserByID(context.Background(), sam.ID); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		t.Fatal("not removed")
	}
}

func adminToken(t *testing.T, srv *apptest.Server, email string, kind graphgate.TokenKind) (string, *graphgate.APIToken) {
	t.Helper()
	u, err := srv.App.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	token, display, hash := apitoken.New()
	tok := &graphgate.APIToken{UserID: u.ID, Kind: kind, Name: "ci", Prefix: display, Hash: hash}
	if err := srv.App.Store.CreateAPIToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return token, tok
}

func TestAdminAPI(t *testing.T) {
	srv := apptest.Start(t, nil)
	token, tok := adminToken(t, srv, apptest.AdminEmail, graphgate.TokenAdmin)
	c := srv.NewClient()
	auth := []string{"Authorization", "Bearer " + token}
	r := c.Do("GET", "/api/v1/admin/microsoft365", "", auth...)
	if r.Status != 200 || !strings.Contains(r.Body, `"status":"not configured"`) {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	// The scheme is case-insensitive (RFC 9110).
	for _, scheme := range []string{"bearer", "BEARER"} {
		if r := c.Do("GET", "/api/v1/admin/microsoft365", "", "Authorization", scheme+" "+token); r.Status != 200 {
			t.Fatalf("%s: %d %s", scheme, r.Status, r.Body)
		}
	}
	callback := srv.URL + "/api/v1/microsoft365/auth/callback"
	r = c.Do("PUT", "/api/v1/admin/microsoft365", `{"clientId":"nope","clientSecret":"x","redirectUri":"ftp://x"}`, auth...)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"clientId"`) || !strings.Contains(r.Body, `"redirectUri"`) {
		t.Fatalf("invalid put: %d %s", r.Status, r.Body)
	}
	r = c.Do("PUT", "/api/v1/admin/microsoft365", `{"clientId":"`+goodClientID+`","clientSecret":"`+goodSecret+`","redirectUri":"`+callback+`","unknown":1}`, auth...)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", r.Status)
	}
	r = c.Do("PUT", "/api/v1/admin/microsoft365", `{"clientId":"`+goodClientID+`","clientSecret":"`+goodSecret+`","redirectUri":"`+callback+`","secretExpiresAt":"2030-01-01"}`, auth...)
	if r.Status != 200 || !strings.Contains(r.Body, `"status":"active"`) || strings.Contains(r.Body, goodSecret) {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/api/v1/admin/microsoft365/rotate", `{"clientSecret":"`+otherSecret+`"}`, auth...); r.Status != 200 || strings.Contains(r.Body, otherSecret) {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/api/v1/admin/microsoft365/disable", "", auth...); !strings.Contains(r.Body, `"status":"disabled"`) {
		t.Fatalf("disable: %s", r.Body)
	}
	if r := c.Do("POST", "/api/v1/admin/users", `{"email":"jo@outlook.test","password":"jo-password-1"}`, auth...); r.Status != http.StatusCreated || !strings.Contains(r.Body, `"role":"user"`) {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	if r := c.Do("GET", "/api/v1/admin/audit?action=microsoft365.rotate_secret", "", auth...); !strings.Contains(r.Body, `"total":1`) ||
		!strings.Contains(r.Body, `"actorEmail":"`+apptest.AdminEmail+`"`) || !strings.Contains(r.Body, `"action":"microsoft365.rotate_secret"`) || strings.Contains(r.Body, `"ActorEmail"`) {
		t.Fatalf("audit: %s", r.Body)
	}
	// Filters that name nothing are refused, not answered with nothing.
	if r := c.Do("GET", "/api/v1/admin/links?state=weird", "", auth...); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("links?state=weird: %d %s", r.Status, r.Body)
	}
	if r := c.Do("DELETE", "/api/v1/admin/microsoft365", "", auth...); r.Status != 200 || !strings.Contains(r.Body, `"deletedLinks":0`) {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	// Last use is recorded.
	if got, _ := srv.App.Store.APITokenByHash(context.Background(), tok.Hash); got.LastUsedAt.IsZero() {
		t.Error("last use not recorded")
	}
	// Revoked tokens, agent tokens and garbage are refused.
	agent, _ := adminToken(t, srv, apptest.AdminEmail, graphgate.TokenAgent)
	for _, bad := range []string{agent, "ggt_nope", "Basic abc"} {
		if r := c.Do("GET", "/api/v1/admin/microsoft365", "", "Authorization", "Bearer "+bad); r.Status != http.StatusUnauthorized {
			t.Errorf("token %q: %d", bad[:5], r.Status)
		}
	}
	u, _ := srv.App.Store.UserByEmail(context.Background(), apptest.AdminEmail)
	_ = srv.App.Store.RevokeAPIToken(context.Background(), u.ID, tok.ID)
	if r := c.Do("GET", "/api/v1/admin/microsoft365", "", auth...); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.Status)
	}
	// With a session cookie, changes need the CSRF header.
	s := srv.NewClient()
	s.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	if r := s.Do("POST", "/api/v1/admin/users", `{"email":"x@y.test","password":"12345678"}`); r.Status != http.StatusForbidden {
		t.Fatalf("cookie without CSRF header: %d", r.Status)
	}
	s.Get("/admin/users")
	if r := s.Do("POST", "/api/v1/admin/users", `{"email":"x@y.test","password":"12345678"}`, "X-CSRF-Token", s.CSRF()); r.Status != http.StatusCreated {
		t.Fatalf("cookie with CSRF header: %d %s", r.Status, r.Body)
	}
}

func TestDatabaseHoldsNoSecretInClear(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	admin.Get("/onboarding/microsoft365")
	admin.Post("/onboarding/microsoft365", configureForm(srv.URL+"/api/v1/microsoft365/auth/callback"))
	addUser(t, admin, "alex@contoso.test", "user")
	dump := storetest.DumpTables(t, srv.App.Store.DB())
	raw := ""
	for _, f := range []string{srv.SQLitePath(), srv.SQLitePath() + "-wal"} {
		b, _ := os.ReadFile(f)
		raw += string(b)
	}
	if !strings.Contains(dump, goodClientID) {
		t.Fatal("the dump does not even hold the client ID: the check would prove nothing")
	}
	for _, secret := range []string{goodSecret, apptest.AdminPassword, "user-password-1"} {
		if strings.Contains(dump, secret) || strings.Contains(raw, secret) {
			t.Errorf("the database holds %q in clear", secret)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := srv.NewClient()
	if r := c.Get("/healthz"); r.Status != 200 {
		t.Fatal("healthz")
	}
	if r := c.Get("/readyz"); r.Status != 200 {
		t.Fatal("readyz")
	}
	c.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	r := c.Get("/metrics")
	for _, want := range []string{`graphgate_http_requests_total{method="POST",route="POST /login",status="303"} 1`,
		`graphgate_store_operation_duration_seconds_count{op="user_by_email"}`, "go_goroutines"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r := c.Get("/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "There is no page at") {
		t.Errorf("404 page: %d", r.Status)
	}
	srv.App.Store.Close()
	if r := c.Get("/readyz"); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store closed: %d", r.Status)
	}
}

func adminNewUser(email string) admin.NewUser {
	return admin.NewUser{Email: email, Password: "user-password-1", Role: graphgate.RoleUser}
}

// TestRotationReachesEveryReplica runs two graphgate replicas on one
// database (PostgreSQL when available): a secret rotated on one is what the
// other reads next, with no restart.
func TestRotationReachesEveryReplica(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "shared.db")
	if base := apptest.PostgresURL(); base != "" {
		dsn = storetest.FreshPostgresDB(t, base)
	}
	env := map[string]string{"GRAPHGATE_DATABASE_URL": dsn, "GRAPHGATE_ENCRYPTION_KEY": secretbox.NewKey()}
	a, b := apptest.Start(t, env), apptest.Start(t, env)
	tokenA, _ := adminToken(t, a, apptest.AdminEmail, graphgate.TokenAdmin)
	tokenB, _ := adminToken(t, b, apptest.AdminEmail, graphgate.TokenAdmin)
	callback := a.URL + "/api/v1/microsoft365/auth/callback"
	ca, cb := a.NewClient(), b.NewClient()
	ca.Do("PUT", "/api/v1/admin/microsoft365", `{"clientId":"`+goodClientID+`","clientSecret":"`+goodSecret+`","redirectUri":"`+callback+`"}`, "Authorization", "Bearer "+tokenA)
	if r := cb.Do("GET", "/api/v1/admin/microsoft365", "", "Authorization", "Bearer "+tokenB); !strings.Contains(r.Body, `"secretHint":"…0001"`) {
		t.Fatalf("replica B before rotation: %s", r.Body)
	}
	ca.Do("POST", "/api/v1/admin/microsoft365/rotate", `{"clientSecret":"`+otherSecret+`"}`, "Authorization", "Bearer "+tokenA)
	if r := cb.Do("GET", "/api/v1/admin/microsoft365", "", "Authorization", "Bearer "+tokenB); !strings.Contains(r.Body, `"secretHint":"…0002"`) {
		t.Fatalf("replica B after rotation: %s", r.Body)
	}
	if cfg, err := b.App.Store.M365Config(context.Background()); err != nil || cfg.ClientSecret != otherSecret {
		t.Fatalf("replica B's store reads %v", err)
	}
}

func TestLoginRateLimitIsPerEmailFirst(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	addUser(t, admin, "pat@contoso.test", "user")
	// Five bad guesses for one account from this address ...
	c := srv.NewClient()
	for range 5 {
		c.Get("/login")
		c.Post("/login", url.Values{"email": {"pat@contoso.test"}, "password": {"guess"}})
	}
	// ... lock that account, not everyone behind the same address (a proxy).
	c.Get("/login")
	if r := c.Post("/login", url.Values{"email": {"pat@contoso.test"}, "password": {"user-password-1"}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("locked account: %d", r.Status)
	}
	if r := srv.NewClient().SignIn(apptest.AdminEmail, apptest.AdminPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("another account from the same address: %d", r.Status)
	}
}
