package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
)

// TestOAuthConsentInABrowser: an MCP client sends a person who has not linked
// Microsoft yet to graphgate's authorization URL; in Chromium they sign in
// (the request survives it), link their account from the consent page, come
// back to it, click Allow and land on the client with a code.
func TestOAuthConsentInABrowser(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	codes := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			codes <- r.URL.Query()
		}
		_, _ = w.Write([]byte("<main>The app is connected.</main>"))
	}))
	defer app.Close()
	c := discover(t, l)
	c.registerClient("Browser Agent")
	c.redirect = app.URL + "/callback"
	authURL := c.authURL("mail.read files.read files.write profile", nil)

	ctx := browsertest.New(t)
	do(t, ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "jo@outlook.test"),
		chromedp.SendKeys(`#password`, apptest.UserPassword),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#consent-link-account`),
	)
	if got := text(t, ctx); !strings.Contains(got, "No Microsoft account is linked") || !strings.Contains(got, "Browser Agent") {
		t.Fatalf("consent page before linking:\n%s", got)
	}
	// Link Account from the consent page, then back to it.
	do(t, ctx,
		chromedp.Click(`#consent-link-account`),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`input[value="jo@outlook.test"]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#accept`),
		chromedp.Click(`#accept`),
		chromedp.WaitVisible(`#allow`),
	)
	got := text(t, ctx)
	for _, want := range []string{"Connect Browser Agent", "unverified", "you go back to 127.0.0.1", "Read-only"} {
		if !strings.Contains(got, want) {
			t.Errorf("consent page lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "No Microsoft account is linked") {
		t.Fatal("the consent page still asks to link")
	}
	browsertest.Screenshot(t, ctx, "oauth-consent")
	do(t, ctx, chromedp.Click(`input[name="toolsets"][value="mail"]`)) // untick mail: files and profile only
	do(t, ctx, chromedp.Click(`#allow`))
	var q url.Values
	select {
	case q = <-codes:
	case <-time.After(20 * time.Second):
		t.Fatal("the browser never reached the app with a code")
	}
	if q.Get("state") != "st-123" || q.Get("iss") != l.URL || q.Get("code") == "" {
		t.Fatalf("the app got %v", q)
	}
	status, tok := c.redeem(app.URL+"/callback?"+q.Encode(), nil)
	if status != 200 || tok["scope"] != "files.read files.write profile" {
		t.Fatalf("token: %d %v", status, tok)
	}

	// Connected apps on the Integrations page.
	do(t, ctx, chromedp.Navigate(l.URL+"/integrations"), chromedp.WaitVisible(`#apps`))
	if got := text(t, ctx); !strings.Contains(got, "Browser Agent") || !strings.Contains(got, "files.read files.write profile") {
		t.Fatalf("connected apps:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "connected-apps")
	do(t, ctx, chromedp.Click(`#apps button.danger`), chromedp.WaitVisible(`p.flash.success`))
	if got := text(t, ctx); !strings.Contains(got, "Disconnected") || strings.Contains(got, "back to 127.0.0.1") {
		t.Fatalf("after Disconnect:\n%s", got)
	}
	if status, _, _ := rawCall(t, l, tok["access_token"].(string), "get_profile"); status != http.StatusUnauthorized {
		t.Fatalf("a disconnected app's token: %d", status)
	}
}
