package web_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
)

func TestLinkHealthForAdmins(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := context.Background()
	alex := l.signIn(t, "alex@contoso.test")
	l.link(t, alex, "alex@contoso.test", "accept")
	l.link(t, l.signIn(t, "jo@outlook.test"), "jo@outlook.test", "accept")
	// Jo's grant is revoked at Microsoft: the next refresh records why.
	l.sb.Identity.RevokeGrants(mustPerson(t, l.sb, "jo@outlook.test"))
	joID := l.userID(t, "jo@outlook.test")
	if _, err := l.srv.App.Store.UpdateLink(ctx, joID, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.AccessExpiresAt = time.Now().Add(-time.Minute)
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.srv.App.Tokens.AccessToken(ctx, joID); err == nil {
		t.Fatal("jo's refresh worked after Microsoft revoked the grant")
	}
	// Text that people (or Microsoft) write reaches exported columns: a
	// spreadsheet must not run it. The name comes from the person's
	// Microsoft profile, the account from Microsoft too.
	alexID := l.userID(t, "alex@contoso.test")
	formulas := map[string]string{
		"name":    `=HYPERLINK("http://evil.example","click")`,
		"account": `+cmd|' /C calc'!A0`,
	}
	if _, err := l.srv.App.Store.UpdateUser(ctx, alexID, func(u *graphgate.User) error { u.Name = formulas["name"]; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.srv.App.Store.UpdateLink(ctx, alexID, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.Username = formulas["account"]
		x.LastError = "@SUM(1+1)*cmd"
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}

	admin := l.srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	page := admin.Get("/admin/users").Body
	for _, want := range []string{`id="link-health"`, "alex@contoso.test", "needs attention", "AADSTS50173", "not linked"} {
		if !strings.Contains(page, want) {
			t.Errorf("link health lacks %q", want)
		}
	}
	// A person who never linked is asked to link, one who needs
	// attention to reconnect.
	for state, want := range map[string]string{"unlinked": "Ask to link", "attention": "Ask to reconnect"} {
		if body := admin.Get("/admin/users?state=" + state).Body; !strings.Contains(body, ">"+want+"</button>") {
			t.Errorf("%s people are not offered %q", state, want)
		}
	}
	if body := admin.Get("/admin/users?state=unlinked").Body; strings.Contains(body, "Ask to reconnect") {
		t.Error("people who never linked are asked to reconnect")
	}
	attention := admin.Get("/admin/users?state=attention").Body
	if !strings.Contains(attention, `data-state="attention"`) || strings.Contains(attention, `data-state="linked"`) || strings.Contains(attention, `data-state="unlinked"`) {
		t.Fatal("the needs-attention filter shows other states")
	}

	// The CSV: one row per person, Microsoft's words kept, nothing a
	// spreadsheet would run.
	r := admin.Get("/admin/users.csv")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV headers: %v", r.Header)
	}
	records, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(records) < 4 || records[0][0] != "email" {
		t.Fatalf("CSV: %v %v", err, records)
	}
	sawAlex := false
	for _, rec := range records {
		for _, v := range rec {
			if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
				t.Fatalf("a formula in the CSV: %q", v)
			}
		}
		if rec[0] == "jo@outlook.test" && (rec[3] != "attention" || !strings.Contains(rec[9], "AADSTS50173")) {
			t.Fatalf("jo's row: %v", rec)
		}
		if rec[0] == "alex@contoso.test" {
			sawAlex = true
			// Defused, not lost: the text is there behind a quote.
			if rec[1] != "'"+formulas["name"] || rec[4] != "'"+formulas["account"] || rec[9] != "'@SUM(1+1)*cmd" {
				t.Fatalf("alex's row: %q", rec)
			}
		}
	}
	if !sawAlex {
		t.Fatal("alex is not in the CSV")
	}
	// Asking to reconnect shows the person a banner until they link again.
	admin.Get("/admin/users")
	admin.Post("/admin/users/"+itoa(joID)+"/reconnect", nil)
	jo := l.signIn(t, "jo@outlook.test")
	if page := jo.Get("/integrations").Body; !strings.Contains(page, "Your admin asks you to reconnect") {
		t.Fatal("no reconnect banner")
	}
	l.link(t, jo, "jo@outlook.test", "accept")
	if page := jo.Get("/integrations").Body; strings.Contains(page, "Your admin asks you to reconnect") {
		t.Fatal("the banner outlives the reconnect")
	}
}

// TestLinkHealthInABrowser: the admin filters link health and asks someone
// to reconnect; they see the banner.
func TestLinkHealthInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	l.link(t, l.signIn(t, "alex@contoso.test"), "alex@contoso.test", "accept")
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, apptest.AdminEmail, apptest.AdminPassword)
	do(t, ctx, chromedp.Navigate(l.srv.URL+"/admin/users"), chromedp.WaitVisible(`#link-health`))
	browsertest.Screenshot(t, ctx, "link-health")
	// The filter leaves only people who are not linked.
	do(t, ctx, chromedp.Click(`#filter-unlinked`), chromedp.WaitNotPresent(`#link-health tr[data-state="linked"]`),
		chromedp.WaitVisible(`#link-health tr[data-state="unlinked"]`))
	if got := text(t, ctx); !strings.Contains(got, "sam@fabrikam.test") {
		t.Fatalf("not-linked filter:\n%s", got)
	}
	sam := itoa(l.userID(t, "sam@fabrikam.test"))
	do(t, ctx, chromedp.Click(`#health-`+sam+` button`), chromedp.WaitVisible(`p.flash.success`))
	signOut(t, ctx)
	signIn(t, ctx, l.srv.URL, "sam@fabrikam.test", "user-password-1")
	body, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Your admin asks you to link your Microsoft account") {
		t.Fatalf("sam, who never linked, sees no banner asking to link:\n%s", body)
	}
}
