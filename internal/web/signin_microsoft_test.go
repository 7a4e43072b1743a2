package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
)

// signInWithMicrosoft clicks Sign in with Microsoft in client c, walks the
// sandbox as account, and returns graphgate's answer to the callback and
// the authorization URL used.
func signInWithMicrosoft(t *testing.T, l *apptest.Linked, c *apptest.Client, account string) (apptest.Response, string) {
	t.Helper()
	page := c.Get("/login")
	if !strings.Contains(page.Body, `id="signin-microsoft"`) {
		t.Fatal("the sign-in page does not offer Sign in with Microsoft")
	}
	r := c.Post("/login/microsoft", url.Values{"csrf": {loginCSRF(page.Body)}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, l.SandboxURL) {
		t.Fatalf("Sign in with Microsoft: %d %s", r.Status, r.Location)
	}
	back := l.AtMicrosoft(t, r.Location, account, "accept")
	return c.Get(strings.TrimPrefix(back, l.URL)), r.Location
}

func loginCSRF(body string) string {
	_, rest, _ := strings.Cut(body, `name="csrf" value="`)
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func setRules(t *testing.T, l *apptest.Linked, f admin.SignInForm) {
	t.Helper()
	if _, err := l.App.Web.Admin().SetSignInSettings(context.Background(), nil, "common", f); err != nil {
		t.Fatal(err)
	}
}

func TestSignInWithMicrosoft(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	ctx := context.Background()
	contosoOnly := admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants, Tenants: directory.Contoso.ID, Passwords: true,
		AdminRole: "graphgate.admin", AdminEmails: apptest.AdminEmail}
	setRules(t, l, contosoOnly)

	t.Run("a new Contoso person is created and linked in one consent", func(t *testing.T) {
		c := l.NewClient()
		r, authURL := signInWithMicrosoft(t, l, c, "nina@contoso.test")
		if !strings.Contains(authURL, "Mail.Read") || !strings.Contains(authURL, "offline_access") {
			t.Fatalf("a first sign-in does not ask for every scope: %s", authURL)
		}
		if r.Status != http.StatusSeeOther || r.Location != "/connect" {
			t.Fatalf("after the sign-in: %d %s\n%s", r.Status, r.Location, r.Body)
		}
		u, err := l.App.Store.UserByEmail(ctx, "nina@contoso.test")
		if err != nil || u.Role != graphgate.RoleUser || u.Name != "Nina Patel" {
			t.Fatalf("nina: %+v %v", u, err)
		}
		if link, err := l.App.Store.Link(ctx, u.ID); err != nil || link.Username != "nina@contoso.test" {
			t.Fatalf("nina's link: %+v %v", link, err)
		}
		if page := c.Get("/connect"); !strings.Contains(page.Body, `data-state="linked"`) {
			t.Fatal("Connect your tools does not show the linked tile")
		}
		// The next sign-in from this browser asks only who it is.
		c.Post("/logout", url.Values{"csrf": {c.CSRF()}})
		r, authURL = signInWithMicrosoft(t, l, c, "nina@contoso.test")
		scope, _ := url.Parse(authURL)
		if scope.Query().Get("scope") != "openid profile email" || r.Status != http.StatusSeeOther {
			t.Fatalf("a later sign-in: %d, scope %q\n%s", r.Status, scope.Query().Get("scope"), r.Body)
		}
	})
	t.Run("another organisation is refused until it is allowed", func(t *testing.T) {
		r, _ := signInWithMicrosoft(t, l, l.NewClient(), "sam@fabrikam.test")
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "not among those your graphgate admin lets sign in") {
			t.Fatalf("sam while only Contoso is allowed: %d", r.Status)
		}
		allowed := contosoOnly
		allowed.Tenants += ", " + directory.Fabrikam.ID
		setRules(t, l, allowed)
		defer setRules(t, l, contosoOnly)
		// Sam has a password account already: Microsoft never takes it over by email.
		if r, _ := signInWithMicrosoft(t, l, l.NewClient(), "sam@fabrikam.test"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "already has an account") {
			t.Fatalf("sam, who has a password account but no link: %d", r.Status)
		}
		l.SignInAndLink(t, "sam@fabrikam.test")
		if r, _ := signInWithMicrosoft(t, l, l.NewClient(), "sam@fabrikam.test"); r.Status != http.StatusSeeOther {
			t.Fatalf("sam, linked, once Fabrikam is allowed: %d", r.Status)
		}
		personal := l.NewClient()
		if r, _ := signInWithMicrosoft(t, l, personal, "jo@outlook.test"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "personal Microsoft accounts") {
			t.Fatalf("a personal account: %d", r.Status)
		}
	})
	t.Run("the admin role follows the app role", func(t *testing.T) {
		nina, _ := l.Sandbox.Directory.Person("nina@contoso.test")
		l.Sandbox.Identity.AssignRoles(nina, []string{"graphgate.admin"})
		signInWithMicrosoft(t, l, l.NewClient(), "nina@contoso.test")
		if u, _ := l.App.Store.UserByEmail(ctx, "nina@contoso.test"); u.Role != graphgate.RoleAdmin {
			t.Fatalf("with the app role: %s", u.Role)
		}
		l.Sandbox.Identity.AssignRoles(nina, nil)
		signInWithMicrosoft(t, l, l.NewClient(), "nina@contoso.test")
		if u, _ := l.App.Store.UserByEmail(ctx, "nina@contoso.test"); u.Role != graphgate.RoleUser {
			t.Fatalf("without it: %s", u.Role)
		}
	})
	// Mallory's Fabrikam admin wrote Contoso's admin address into her mail
	// attribute: Microsoft sends it as her email claim, with xms_edov
	// false. Neither the admin list nor a domain rule may trust it.
	t.Run("an unverified email makes nobody admin and passes no domain rule", func(t *testing.T) {
		anyone := admin.SignInForm{Microsoft: true, Who: graphgate.SignInAnyone, Passwords: true, AdminEmails: apptest.AdminEmail}
		setRules(t, l, anyone)
		defer setRules(t, l, contosoOnly)
		c := l.NewClient()
		if r, _ := signInWithMicrosoft(t, l, c, "mallory@fabrikam.test"); r.Status != http.StatusSeeOther {
			t.Fatalf("mallory, when anyone may sign in: %d %s", r.Status, r.Body)
		}
		u, err := l.App.Store.UserByEmail(ctx, "mallory@fabrikam.test")
		if err != nil || u.Role != graphgate.RoleUser {
			t.Fatalf("mallory is %+v (%v), want a user known by her UPN", u, err)
		}
		if page := c.Get("/admin/users"); page.Status == http.StatusOK {
			t.Fatal("mallory reaches the Admin Console")
		}
		if a, _ := l.App.Store.UserByEmail(ctx, apptest.AdminEmail); a == nil || a.ID == u.ID {
			t.Fatal("mallory took the admin's account")
		}
		domain := anyone
		domain.Domains = "contoso.test"
		setRules(t, l, domain)
		if r, _ := signInWithMicrosoft(t, l, l.NewClient(), "mallory@fabrikam.test"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "only addresses at contoso.test") {
			t.Fatalf("mallory under a contoso.test domain rule: %d", r.Status)
		}
	})
	t.Run("Microsoft's answer for someone else's sign-in is refused", func(t *testing.T) {
		attacker := l.NewClient()
		page := attacker.Get("/login")
		r := attacker.Post("/login/microsoft", url.Values{"csrf": {loginCSRF(page.Body)}})
		back := l.AtMicrosoft(t, r.Location, "alex@contoso.test", "accept")
		victim := l.NewClient()
		if r := victim.Get(strings.TrimPrefix(back, l.URL)); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "started in another browser") {
			t.Fatalf("a sign-in answer opened in another browser: %d", r.Status)
		}
		if r := victim.Get("/integrations"); r.Status != http.StatusSeeOther {
			t.Fatal("the victim was signed in as someone else")
		}
	})
	t.Run("only people already linked, by default", func(t *testing.T) {
		setRules(t, l, admin.SignInForm{Microsoft: true, Who: graphgate.SignInExisting, Passwords: true})
		defer setRules(t, l, contosoOnly)
		if r, _ := signInWithMicrosoft(t, l, l.NewClient(), "admin@contoso.test"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "only people who already use graphgate") {
			t.Fatalf("an unlinked person: %d", r.Status)
		}
	})
	t.Run("password sign-in off, but for the break-glass admin", func(t *testing.T) {
		off := contosoOnly
		off.Passwords = false
		if _, err := l.App.Web.Admin().SetSignInSettings(ctx, nil, "common", off); admin.FieldErrorsOf(err)[admin.FieldBreakGlass] == "" {
			t.Fatalf("passwords off without a break-glass admin: %v", err)
		}
		off.BreakGlass = apptest.AdminEmail
		setRules(t, l, off)
		defer setRules(t, l, contosoOnly)
		c := l.NewClient()
		c.Get("/login")
		if r := c.Post("/login", url.Values{"email": {"alex@contoso.test"}, "password": {apptest.UserPassword}}); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Password sign-in is turned off") {
			t.Fatalf("alex's password: %d", r.Status)
		}
		l.NewClient().SignIn(apptest.AdminEmail, apptest.AdminPassword)
	})
}

// A first sign-in that goes on to Microsoft for the permissions only work
// accounts have is remembered like any other: the next one from this
// browser asks only who it is.
func TestFirstSignInGoingOnToWorkOnlyPermissions(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	ctx := context.Background()
	setRules(t, l, admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants, Tenants: directory.Contoso.ID, Passwords: true})
	if _, err := l.App.Web.Admin().SetCapabilities(ctx, nil, []string{"people"}); err != nil {
		t.Fatal(err)
	}
	c := l.NewClient()
	r, _ := signInWithMicrosoft(t, l, c, "nina@contoso.test")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, l.SandboxURL) {
		t.Fatalf("nina is not sent on for the work-only permissions: %d %s", r.Status, r.Location)
	}
	if r := l.Back(t, c, l.AtMicrosoft(t, r.Location, "nina@contoso.test", "accept")); r.Status != http.StatusSeeOther {
		t.Fatalf("the work-only consent: %d %s", r.Status, r.Body)
	}
	if page := c.Get("/integrations"); !strings.Contains(page.Body, `data-state="linked"`) {
		t.Fatal("nina is not linked")
	}
	c.Post("/logout", url.Values{"csrf": {c.CSRF()}})
	_, authURL := signInWithMicrosoft(t, l, c, "nina@contoso.test")
	if u, _ := url.Parse(authURL); u.Query().Get("scope") != "openid profile email" {
		t.Fatalf("nina's next sign-in asks for %q", u.Query().Get("scope"))
	}
}

// TestSignInWithMicrosoftInABrowser: a Contoso person without a graphgate
// account clicks Sign in with Microsoft, accepts one consent, and lands on
// Connect your tools with their account linked.
func TestSignInWithMicrosoftInABrowser(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	setRules(t, l, admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants, Tenants: directory.Contoso.ID, Passwords: true})
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(l.URL+"/login"), chromedp.WaitVisible(`#signin-microsoft`))
	browsertest.Screenshot(t, ctx, "signin-microsoft")
	do(t, ctx,
		chromedp.Click(`#signin-microsoft`),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`input[value="nina@contoso.test"]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#accept`),
		chromedp.Click(`#accept`),
		chromedp.WaitVisible(`#m365-tile`),
	)
	got := text(t, ctx)
	if !strings.Contains(got, "Connect your tools") || tileState(t, ctx) != "linked" || !strings.Contains(got, "Nina Patel") {
		t.Fatalf("after Sign in with Microsoft:\n%s", got)
	}
}

// TestSignInRulesInABrowser: while only Contoso may sign in with Microsoft,
// a Fabrikam person is refused in words; the admin adds Fabrikam in the
// console, and the person (linked) is admitted; the admin then turns
// password sign-in off, which refuses a password but not the break-glass
// admin's.
func TestSignInRulesInABrowser(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	setRules(t, l, admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants, Tenants: directory.Contoso.ID, Passwords: true})
	l.SignInAndLink(t, "sam@fabrikam.test")
	ctx := browsertest.New(t)
	microsoftSignIn := func(account string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(l.URL+"/login"), chromedp.WaitVisible(`#signin-microsoft`), chromedp.Click(`#signin-microsoft`),
			chromedp.WaitVisible(`#next`), chromedp.Click(`input[value="`+account+`"]`), chromedp.Click(`#next`),
			chromedp.WaitVisible(`#accept, #m365-tile, #email`))
		onConsent, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#accept')`))
		if onConsent {
			do(t, ctx, chromedp.Click(`#accept`), chromedp.WaitVisible(`#m365-tile, #email`))
		}
	}
	microsoftSignIn("sam@fabrikam.test")
	if got := text(t, ctx); !strings.Contains(got, "not among those your graphgate admin lets sign in") {
		t.Fatalf("sam while only Contoso is allowed:\n%s", got)
	}

	signIn(t, ctx, l.URL, apptest.AdminEmail, apptest.AdminPassword)
	do(t, ctx, chromedp.Navigate(l.URL+"/admin/users"), chromedp.WaitVisible(`#signin-rules`),
		chromedp.SetValue(`#rule-tenants`, directory.Contoso.ID+", "+directory.Fabrikam.ID), chromedp.Click(`#save-signin`), chromedp.WaitVisible(`p.flash.success`))
	signOut(t, ctx)
	microsoftSignIn("sam@fabrikam.test")
	if got := text(t, ctx); !strings.Contains(got, "Integrations") || strings.Contains(got, "not among") {
		t.Fatalf("sam once Fabrikam is allowed:\n%s", got)
	}
	signOut(t, ctx)

	// Passwords off, with the bootstrap admin as break-glass.
	signIn(t, ctx, l.URL, apptest.AdminEmail, apptest.AdminPassword)
	do(t, ctx, chromedp.Navigate(l.URL+"/admin/users"), chromedp.WaitVisible(`#signin-rules`),
		chromedp.Click(`#rule-passwords`), chromedp.SendKeys(`#rule-breakglass`, apptest.AdminEmail),
		chromedp.Click(`#save-signin`), chromedp.WaitVisible(`p.flash.success`))
	signOut(t, ctx)
	do(t, ctx, chromedp.Navigate(l.URL+"/login"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "alex@contoso.test"), chromedp.SendKeys(`#password`, apptest.UserPassword),
		chromedp.Click(`#signin`), chromedp.WaitVisible(`p.flash.error`))
	if got := text(t, ctx); !strings.Contains(got, "Password sign-in is turned off") {
		t.Fatalf("alex's password while passwords are off:\n%s", got)
	}
	signIn(t, ctx, l.URL, apptest.AdminEmail, apptest.AdminPassword)
	if got := text(t, ctx); !strings.Contains(got, "Admin Console") {
		t.Fatalf("the break-glass admin:\n%s", got)
	}
}

// An Entra app that requires assignment refuses an unassigned person, and
// graphgate says so in words.
func TestSignInWithMicrosoftUnassigned(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{RequireAssignment: true, AppRoles: map[string][]string{"alex@contoso.test": {"graphgate.user"}}})
	setRules(t, l, admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants, Tenants: directory.Contoso.ID, Passwords: true})
	if r, _ := signInWithMicrosoft(t, l, l.NewClient(), "nina@contoso.test"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "has not given you access") {
		t.Fatalf("an unassigned person: %d", r.Status)
	}
	if _, err := l.App.Store.UserByEmail(context.Background(), "nina@contoso.test"); err == nil {
		t.Fatal("an unassigned person was created")
	}
}

func TestSignInRulesAndLinkHealthThroughTheAPI(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	token, _ := adminToken(t, l.Server, apptest.AdminEmail, graphgate.TokenAdmin)
	c := l.NewClient()
	auth := []string{"Authorization", "Bearer " + token}
	if r := c.Do("PUT", "/api/v1/admin/signin", `{"microsoft":true,"who":"tenants","tenants":["not-a-guid"],"passwords":true}`, auth...); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "tenants") {
		t.Fatalf("a bad tenant: %d %s", r.Status, r.Body)
	}
	if r := c.Do("PUT", "/api/v1/admin/signin", `{"microsoft":true,"who":"tenants","tenants":["`+directory.Contoso.ID+`"],"passwords":true,"adminRole":"graphgate.admin"}`, auth...); r.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", r.Status, r.Body)
	}
	if st, _ := l.App.Store.SignInSettings(context.Background()); st.Who != graphgate.SignInTenants || st.AdminRole != "graphgate.admin" {
		t.Fatalf("saved rules: %+v", st)
	}
	r := c.Do("GET", "/api/v1/admin/links?state=linked", "", auth...)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"email":"alex@contoso.test"`) || strings.Contains(r.Body, "sam@fabrikam.test") {
		t.Fatalf("links: %d %s", r.Status, r.Body)
	}
	sam, _ := l.App.Store.UserByEmail(context.Background(), "sam@fabrikam.test")
	if r := c.Do("POST", "/api/v1/admin/users/"+itoa(sam.ID)+"/reconnect", "", auth...); r.Status != http.StatusOK {
		t.Fatalf("ask to reconnect: %d %s", r.Status, r.Body)
	}
	if u, _ := l.App.Store.UserByID(context.Background(), sam.ID); u.ReconnectAskedAt.IsZero() {
		t.Fatal("not asked")
	}
}
