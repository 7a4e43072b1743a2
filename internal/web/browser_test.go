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
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
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

// linkInBrowser clicks Link Account (or Reconnect), picks the account at the
// sandbox and answers its consent page.
func linkInBrowser(t *testing.T, ctx context.Context, button, account, decision string) {
	t.Helper()
	do(t, ctx,
		chromedp.Click(button),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`input[value="`+account+`"]`),
		chromedp.Click(`#next`),
		// The next page is the consent page, or (consent already given) graphgate.
		chromedp.WaitVisible(`#accept, #m365-tile`),
	)
	// Consent is asked once per person; after that Microsoft goes straight back.
	onConsent, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#accept')`))
	if err == nil && onConsent {
		do(t, ctx, chromedp.Click(`#`+decision))
	}
	do(t, ctx, chromedp.WaitVisible(`#m365-tile`))
}

func tileState(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#m365-tile').dataset.state`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signOut(t *testing.T, ctx context.Context) {
	do(t, ctx, chromedp.Click(`.signout button`), chromedp.WaitVisible(`#signin`))
}

// TestLinkInABrowser walks Link Account in Chromium for the tile's states.
func TestLinkInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := browsertest.New(t)

	// Alex: Connect your tools, Link Account, Accept, linked.
	signIn(t, ctx, l.srv.URL, "alex@contoso.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#link`))
	if got := text(t, ctx); !strings.Contains(got, "Connect your tools") {
		t.Fatalf("first sign-in page:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "tile-link")
	linkInBrowser(t, ctx, `#link`, "alex@contoso.test", "accept")
	if s := tileState(t, ctx); s != "linked" {
		t.Fatalf("after accepting: %s\n%s", s, text(t, ctx))
	}
	got := text(t, ctx)
	for _, want := range []string{"Alex Wilber", "alex@contoso.test", "Work or school account", "Linked Alex Wilber"} {
		if !strings.Contains(got, want) {
			t.Errorf("linked tile lacks %q", want)
		}
	}
	browsertest.Screenshot(t, ctx, "tile-linked")

	link, _ := l.srv.App.Store.Link(context.Background(), l.userID(t, "alex@contoso.test"))

	// Revoked at Microsoft: the next token request turns the tile into Reconnect.
	l.sb.Identity.RevokeGrants(mustPerson(t, l.sb, "alex@contoso.test"))
	_, _ = l.srv.App.Store.UpdateLink(context.Background(), link.UserID, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.AccessExpiresAt = time.Now().Add(-time.Minute)
		return x, nil
	})
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), link.UserID); err == nil {
		t.Fatal("a revoked grant still gave a token")
	}
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/connect"), chromedp.WaitVisible(`#reconnect`))
	if got := text(t, ctx); !strings.Contains(got, "Reconnect") || !strings.Contains(got, "revoked") {
		t.Fatalf("reconnect tile:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "tile-reconnect")
	linkInBrowser(t, ctx, `#reconnect`, "alex@contoso.test", "accept")
	if s := tileState(t, ctx); s != "linked" {
		t.Fatalf("after reconnecting: %s", s)
	}
	signOut(t, ctx)

	// Sam declines: nothing stored, a clear message.
	signIn(t, ctx, l.srv.URL, "sam@fabrikam.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#link`))
	linkInBrowser(t, ctx, `#link`, "sam@fabrikam.test", "cancel")
	if got := text(t, ctx); !strings.Contains(got, "You declined") || tileState(t, ctx) != "link" {
		t.Fatalf("after declining:\n%s", got)
	}
	if _, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "sam@fabrikam.test")); err == nil {
		t.Fatal("a declined link was stored")
	}
	// Sam sees only his own tile: nothing of alex's link.
	if got := text(t, ctx); strings.Contains(got, "alex@contoso.test") || strings.Contains(got, "Alex Wilber") {
		t.Fatal("sam sees alex's link")
	}
	signOut(t, ctx)

	// Jo links a personal account.
	signIn(t, ctx, l.srv.URL, "jo@outlook.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#link`))
	linkInBrowser(t, ctx, `#link`, "jo@outlook.test", "accept")
	if got := text(t, ctx); !strings.Contains(got, "Personal account") || tileState(t, ctx) != "linked" {
		t.Fatalf("jo:\n%s", got)
	}
	signOut(t, ctx)

	// When the admin turns Microsoft 365 off, the tile says so.
	_, _ = l.srv.App.Web.Admin().SetM365Enabled(context.Background(), nil, false)
	signIn(t, ctx, l.srv.URL, "sam@fabrikam.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#tile-unavailable`))
	browsertest.Screenshot(t, ctx, "tile-unavailable")
}

// TestReplayedCallbackInABrowser opens Microsoft's answer twice.
func TestReplayedCallbackInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, "alex@contoso.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#link`))
	loc := l.srv.URL + "/api/v1/microsoft365/auth/callback"
	linkInBrowser(t, ctx, `#link`, "alex@contoso.test", "accept")
	events, _, _ := l.srv.App.Store.ListAudit(context.Background(), graphgate.AuditFilter{Action: "microsoft365.link"})
	if len(events) != 1 {
		t.Fatal("not linked")
	}
	// Start a second link, stop at Microsoft's answer, use it twice.
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#unlink`), chromedp.Click(`#unlink`), chromedp.WaitVisible(`#link`))
	c := l.signIn(t, "alex@contoso.test")
	c.Get("/integrations")
	start := c.Post("/integrations/microsoft365/link", nil)
	callbackURL := l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	if !strings.HasPrefix(callbackURL, loc) {
		t.Fatalf("callback %s", callbackURL)
	}
	// The browser (another session of alex's) opens it: the state belongs to
	// alex, so it links; opening it again is refused.
	do(t, ctx, chromedp.Navigate(callbackURL), chromedp.WaitVisible(`#m365-tile`))
	do(t, ctx, chromedp.Navigate(callbackURL), chromedp.WaitVisible(`#m365-tile`))
	if got := text(t, ctx); !strings.Contains(got, "expired or was already used") {
		t.Fatalf("replay:\n%s", got)
	}
}

// TestSingleTenantInABrowser: with a tenant authority, a person of another
// tenant is refused at Microsoft and nothing is stored.
func TestSingleTenantInABrowser(t *testing.T) {
	l := startLinked(t, map[string]string{"GRAPHGATE_M365_AUTHORITY": directory.Contoso.ID}, sandbox.Options{SingleTenant: true})
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, "sam@fabrikam.test", "user-password-1")
	do(t, ctx, chromedp.WaitVisible(`#link`))
	do(t, ctx,
		chromedp.Click(`#link`),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`input[value="sam@fabrikam.test"]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#m365-tile`),
	)
	if got := text(t, ctx); !strings.Contains(got, "not in the organisation") || tileState(t, ctx) != "link" {
		t.Fatalf("sam in single-tenant mode:\n%s", got)
	}
	if _, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "sam@fabrikam.test")); err == nil {
		t.Fatal("sam's link was stored")
	}
}

// TestConsoleTabsInABrowser covers the Users and Audit log tabs and the
// removal confirmation.
func TestConsoleTabsInABrowser(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := browsertest.New(t)
	signIn(t, ctx, srv.URL, apptest.AdminEmail, apptest.AdminPassword)
	do(t, ctx, chromedp.WaitVisible(`#skip`), chromedp.Click(`#skip`), chromedp.WaitVisible(`#configure`))

	// Users: a bad form keeps what was typed, a good one adds the person.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/users"),
		chromedp.WaitVisible(`#add-user`),
		chromedp.SendKeys(`#new-email`, "pat@contoso.test"),
		chromedp.SendKeys(`#new-password`, "short"),
		chromedp.Click(`#add-user`),
		chromedp.WaitVisible(`.field.invalid`),
	)
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#new-email`)); v != "pat@contoso.test" {
		t.Fatalf("typed email lost: %q", v)
	}
	do(t, ctx,
		chromedp.SendKeys(`#new-password`, "long-enough-password"),
		chromedp.Click(`#add-user`),
		chromedp.WaitVisible(`.flash.success`),
	)
	if got := text(t, ctx); !strings.Contains(got, "pat@contoso.test can now sign in") {
		t.Fatalf("users tab:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "users")

	// Configure, then remove with the confirmation page.
	if _, err := srv.App.Web.Admin().ConfigureM365(context.Background(), nil, microsoft365.Setup{ClientID: goodClientID,
		ClientSecret: goodSecret, RedirectURI: srv.URL + "/api/v1/microsoft365/auth/callback"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/servers"),
		chromedp.WaitVisible(`#remove`),
		chromedp.Click(`#remove`),
		chromedp.WaitVisible(`#remove-count`),
		chromedp.SendKeys(`#confirm`, "remove"),
		chromedp.Click(`#confirm-remove`),
		chromedp.WaitVisible(`#configure`),
	)

	// Audit log: entries, and the filter.
	do(t, ctx, chromedp.Navigate(srv.URL+"/admin/audit"), chromedp.WaitVisible(`#audit`))
	got := text(t, ctx)
	for _, want := range []string{"user.create", "microsoft365.configure", "microsoft365.remove", "pat@contoso.test"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	browsertest.Screenshot(t, ctx, "audit-log")
	do(t, ctx,
		chromedp.SetValue(`#f-action`, "microsoft365.remove"),
		chromedp.Click(`#filter`),
		// Only the filtered page has the option selected in its markup.
		chromedp.WaitReady(`option[selected][value="microsoft365.remove"]`),
	)
	rows, err := chromedp.Run(ctx, chromedp.Text(`#audit tbody`))
	if err != nil || strings.Contains(rows, "user.create") || !strings.Contains(rows, "microsoft365.remove") {
		t.Fatalf("filtered audit log rows:\n%s", rows)
	}
}

// TestAgentTokensInABrowser creates a token, sees it once, and revokes it.
func TestAgentTokensInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, "alex@contoso.test", "user-password-1")
	do(t, ctx,
		chromedp.Navigate(l.srv.URL+"/integrations"),
		chromedp.WaitVisible(`#create-token`),
		chromedp.SendKeys(`#token-name`, "Claude Desktop"),
		chromedp.Click(`#token-readonly`),
		chromedp.Click(`#create-token`),
		chromedp.WaitVisible(`#new-token`),
	)
	token, err := chromedp.Run(ctx, chromedp.Text(`#new-token`))
	if err != nil || !strings.HasPrefix(token, "ggt_") {
		t.Fatalf("new token %q %v", token, err)
	}
	// Ready-made configurations with the real URL and the token, each with
	// a Copy button that works under the page's CSP.
	for id, want := range map[string]string{
		"snippet-claude": `claude mcp add --transport http graphgate ` + l.srv.URL + `/mcp --header "Authorization: Bearer ` + token + `"`,
		"snippet-vscode": `{"servers": {"graphgate": {"type": "http", "url": "` + l.srv.URL + `/mcp", "headers": {"Authorization": "Bearer ` + token + `"}}}}`,
		"snippet-cursor": `{"mcpServers": {"graphgate": {"url": "` + l.srv.URL + `/mcp", "headers": {"Authorization": "Bearer ` + token + `"}}}}`,
	} {
		got, err := chromedp.Run(ctx, chromedp.Text(`#`+id))
		if err != nil || got != want {
			t.Errorf("%s: %q, want %q (%v)", id, got, want, err)
		}
	}
	do(t, ctx, chromedp.Click(`button[data-copy="snippet-claude"]`))
	label := "Copy"
	for deadline := time.Now().Add(5 * time.Second); label == "Copy" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		label, _ = chromedp.Run(ctx, chromedp.Text(`button[data-copy="snippet-claude"]`))
	}
	if label != "Copied" && !strings.HasPrefix(label, "Selected") {
		t.Fatalf("the Copy button did nothing: %q", label)
	}
	browsertest.Screenshot(t, ctx, "agent-tokens")
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#tokens`))
	if got := text(t, ctx); strings.Contains(got, token) || !strings.Contains(got, "Claude Desktop") || !strings.Contains(got, "read-only") {
		t.Fatalf("token list:\n%s", got)
	}
	do(t, ctx, chromedp.Click(`#tokens button`), chromedp.WaitVisible(`.flash.success`))
	if got := text(t, ctx); !strings.Contains(got, "revoked") {
		t.Fatalf("after revoking:\n%s", got)
	}
}

// TestApprovalInABrowser: the page where a person approves what an agent
// asked for when its MCP client could not ask them: the summary, then
// Approve, once; the agent's retry then finds the yes.
func TestApprovalInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, "alex@contoso.test", "user-password-1")
	alex, err := l.srv.App.Store.UserByEmail(context.Background(), "alex@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.srv.App.Store.AskApproval(context.Background(), &graphgate.Approval{ID: "browser-approval-1", Key: "k1", UserID: alex.ID,
		Label: "Claude Desktop (ggt_7Hq2…)", Tool: "send_message", ExpiresAt: time.Now().Add(10 * time.Minute),
		Summary: "Send this email?\n\nTo: sam@fabrikam.test\nSubject: Q3 numbers\nAttachments: q3.xlsx\n\nHi Sam, the numbers <b>are</b> in."})
	if err != nil {
		t.Fatal(err)
	}
	// The Integrations page lists what waits, and leads to it.
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#approvals`))
	if got := text(t, ctx); !strings.Contains(got, "Waiting for your approval") || !strings.Contains(got, "Claude Desktop (ggt_7Hq2…): send_message") {
		t.Fatalf("integrations:\n%s", got)
	}
	do(t, ctx, chromedp.Click(`#approvals a`), chromedp.WaitVisible(`#approve`))
	got, err := chromedp.Run(ctx, chromedp.Text(`#approval-summary`))
	if err != nil || !strings.Contains(got, "To: sam@fabrikam.test") || !strings.Contains(got, "<b>are</b>") {
		t.Fatalf("summary %q %v", got, err) // shown as text, never as markup
	}
	browsertest.Screenshot(t, ctx, "approval")
	do(t, ctx, chromedp.Click(`#approve`), chromedp.WaitVisible(`#approval-next`))
	if got := text(t, ctx); !strings.Contains(got, "Approved") || strings.Contains(got, "Decline") {
		t.Fatalf("after approving:\n%s", got)
	}
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#m365-tile`))
	if got := text(t, ctx); strings.Contains(got, "Waiting for your approval") {
		t.Fatalf("an answered approval is still listed:\n%s", got)
	}
	if taken, err := l.srv.App.Store.TakeApproval(context.Background(), "k1"); err != nil || taken.State != graphgate.ApprovalApproved {
		t.Fatalf("the agent's retry: %+v %v", taken, err)
	}
	events, _, _ := l.srv.App.Store.ListAudit(context.Background(), graphgate.AuditFilter{Action: "mcp.approval"})
	if len(events) != 1 || events[0].Target != "send_message" || events[0].Details["decision"] != "approved" || events[0].ActorEmail != "alex@contoso.test" {
		t.Fatalf("audit: %+v", events)
	}
	// Answered and taken: the page says there is nothing left to approve.
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/approve/"+a.ID), chromedp.WaitVisible(`#error-message`))
	if got := text(t, ctx); !strings.Contains(got, "Nothing to approve") {
		t.Fatalf("a spent approval:\n%s", got)
	}
}
