package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
)

// TestSignInPagesInABrowser walks the account picker and the consent page in
// Chromium, as a person would, and checks where each answer leads.
func TestSignInPagesInABrowser(t *testing.T) {
	// The app's redirect URI points at a stand-in for graphgate's callback.
	got := make(chan string, 4)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/microsoft365/auth/callback" {
			http.NotFound(w, r) // the browser also asks for /favicon.ico
			return
		}
		got <- r.URL.RawQuery
		_, _ = w.Write([]byte("<html><body><h1 id=done>back at the app</h1></body></html>"))
	}))
	defer app.Close()
	callback := app.URL + "/api/v1/microsoft365/auth/callback"
	tn := startTenant(t, sandbox.Options{RedirectURIs: []string{callback}})
	cfg := tn.oauthConfig("common")
	cfg.RedirectURL = callback
	ctx := browsertest.New(t)

	// Accept: the browser comes back with a code.
	authURL := cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("login_hint", "jo@outlook.test"))
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(`#next`)); err != nil {
		t.Fatal(err)
	}
	pickerText, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "sandbox-picker")
	for _, want := range []string{"Pick an account", "Alex Wilber", "jo@outlook.test", "Personal account", "Work or school account"} {
		if !strings.Contains(pickerText, want) {
			t.Errorf("picker lacks %q", want)
		}
	}
	hinted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[value="jo@outlook.test"]').checked`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#next`), chromedp.WaitVisible(`#accept`)); err != nil {
		t.Fatal(err)
	}
	consentText, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	if !hinted {
		t.Error("login_hint did not preselect the account")
	}
	browsertest.Screenshot(t, ctx, "sandbox-consent")
	for _, want := range []string{"Permissions requested", "jo@outlook.test", "Read your mail", "Send mail as you",
		"Have full access to your files", "Maintain access to data you have given it access to"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#accept`), chromedp.WaitVisible(`#done`)); err != nil {
		t.Fatal(err)
	}
	if q := <-got; !strings.Contains(q, "code=") || !strings.Contains(q, "state=st-1") {
		t.Fatalf("accept came back with %q", q)
	}

	// Cancel: the browser comes back with access_denied and no code.
	err = chromedp.Do(ctx,
		chromedp.Navigate(cfg.AuthCodeURL("st-2", oauth2.SetAuthURLParam("prompt", "consent"))),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`input[value="alex@contoso.test"]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#cancel`),
		chromedp.Click(`#cancel`),
		chromedp.WaitVisible(`#done`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; !strings.Contains(q, "error=access_denied") || strings.Contains(q, "code=") {
		t.Fatalf("cancel came back with %q", q)
	}
}
