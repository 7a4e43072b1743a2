package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
)

// text returns the visible text of the page's main element.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email),
		chromedp.SendKeys(`#password`, password),
		chromedp.Click(`#signin`),
		chromedp.WaitNotPresent(`#signin`),
	)
}

// TestAdminSetupInABrowser walks the admin's setup in Chromium: sign in,
// onboarding, a wrong form then a right one, the MCP Servers tab, rotation,
// disabling; then a user is refused the console.
func TestAdminSetupInABrowser(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := browsertest.New(t)
	signIn(t, ctx, srv.URL, apptest.AdminEmail, apptest.AdminPassword)

	do(t, ctx, chromedp.WaitVisible(`.grid`))
	if got := strings.ToLower(text(t, ctx)); !strings.Contains(got, "set your company's tools") || !strings.Contains(got, "calendar") {
		t.Fatalf("onboarding tools page:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "onboarding-tools")

	// The form, first with the classic mistakes.
	do(t, ctx,
		chromedp.Click(`a.tool`),
		chromedp.WaitVisible(`#clientId`),
		chromedp.SendKeys(`#clientId`, "graphgate"),
		chromedp.SendKeys(`#clientSecret`, "0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"),
		chromedp.Click(`#submit`),
		chromedp.WaitVisible(`#clientId-error`),
	)
	got := text(t, ctx)
	if !strings.Contains(got, "The client ID is a GUID") || !strings.Contains(got, "looks like the Secret ID") {
		t.Fatalf("errors not shown next to the fields:\n%s", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#clientId`)); v != "graphgate" {
		t.Errorf("typed client ID not kept: %q", v)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#clientSecret`)); v != "" {
		t.Error("the secret was rendered back into the form")
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#redirectUri`)); v != srv.URL+"/api/v1/microsoft365/auth/callback" {
		t.Errorf("redirect URI prefill: %q", v)
	}
	browsertest.Screenshot(t, ctx, "onboarding-form-errors")
	expires := time.Now().AddDate(0, 0, 700)
	do(t, ctx,
		chromedp.Clear(`#clientId`),
		chromedp.SendKeys(`#clientId`, goodClientID),
		chromedp.SendKeys(`#clientSecret`, goodSecret),
		// A date input takes keystrokes in the locale's order; setting the
		// value is what a date picker does.
		chromedp.SetValue(`#secretExpiresAt`, expires.Format("2006-01-02")),
		chromedp.Click(`#submit`),
		chromedp.WaitVisible(`#done`),
	)
	browsertest.Screenshot(t, ctx, "onboarding-done")
	do(t, ctx, chromedp.Click(`#done`), chromedp.WaitVisible(`#m365-status`))
	got = text(t, ctx)
	if !strings.Contains(strings.ToLower(got), "active") || !strings.Contains(got, "…0001") || !strings.Contains(got, "Linked accounts") {
		t.Fatalf("MCP Servers tab:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "mcp-servers")

	// Rotate the secret.
	do(t, ctx,
		chromedp.Click(`#rotate`),
		chromedp.WaitVisible(`#clientSecret`),
		chromedp.SendKeys(`#clientSecret`, otherSecret),
		chromedp.Click(`#submit`),
		chromedp.WaitVisible(`#m365-status`),
	)
	if got := text(t, ctx); !strings.Contains(got, "Client secret rotated") || !strings.Contains(got, "…0002") {
		t.Fatalf("after rotation:\n%s", got)
	}
	if cfg, _ := srv.App.Store.M365Config(context.Background()); cfg.ClientSecret != otherSecret {
		t.Fatal("rotation not stored")
	}

	// Disable.
	do(t, ctx, chromedp.Click(`#disable`), chromedp.WaitVisible(`#enable`))
	if s, _ := chromedp.Run(ctx, chromedp.Text(`#m365-status`)); !strings.EqualFold(s, "disabled") {
		t.Fatalf("status after disable: %q", s)
	}
	if cfg, _ := srv.App.Store.M365Config(context.Background()); cfg.Status() != graphgate.StatusDisabled {
		t.Fatal("not disabled in the store")
	}

	// A user signs in and is refused the console.
	if _, err := srv.App.Web.Admin().CreateUser(context.Background(), nil, adminNewUser("alex@contoso.test")); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Click(`.signout button`), chromedp.WaitVisible(`#signin`))
	signIn(t, ctx, srv.URL, "alex@contoso.test", "user-password-1")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/connect") {
		t.Fatalf("user landed on %s", loc)
	}
	do(t, ctx, chromedp.Navigate(srv.URL+"/admin/servers"), chromedp.WaitVisible(`#error-message`))
	if got := text(t, ctx); !strings.Contains(got, "This page is for admins") {
		t.Fatalf("user saw:\n%s", got)
	}

	// The same pages work at phone width.
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/integrations"), chromedp.WaitVisible(`.tile`))
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Fatalf("the page scrolls sideways on a phone (%v)", err)
	}
}
