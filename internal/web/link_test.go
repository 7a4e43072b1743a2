package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
	"graphgate/internal/storetest"
)

// linked is graphgate and a sandbox tenant wired together.
type linked struct {
	*apptest.Linked
	srv   *apptest.Server
	sb    *sandbox.Sandbox
	sbURL string
}

func startLinked(t *testing.T, env map[string]string, opts sandbox.Options) *linked {
	t.Helper()
	l := apptest.StartWithSandbox(t, env, opts)
	return &linked{Linked: l, srv: l.Server, sb: l.Sandbox, sbURL: l.SandboxURL}
}

// twoReplicas starts two graphgate instances on one fresh PostgreSQL
// database and the same sandbox, or skips the test without PostgreSQL.
func twoReplicas(t *testing.T) (*linked, *apptest.Server) {
	t.Helper()
	base := apptest.PostgresURL()
	if base == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES_URL is not set; ./scripts/test sets it")
	}
	db := storetest.FreshPostgresDB(t, base)
	l := startLinked(t, map[string]string{"GRAPHGATE_DATABASE_URL": db, "GRAPHGATE_ENCRYPTION_KEY": testKey}, sandbox.Options{})
	second := apptest.Start(t, map[string]string{"GRAPHGATE_DATABASE_URL": db,
		"GRAPHGATE_ENCRYPTION_KEY": testKey, "GRAPHGATE_M365_LOGIN_URL": l.sbURL, "GRAPHGATE_M365_GRAPH_URL": l.sbURL})
	return l, second
}

func (l *linked) atMicrosoft(t *testing.T, authURL, account, decision string) string {
	t.Helper()
	return l.AtMicrosoft(t, authURL, account, decision)
}

func (l *linked) link(t *testing.T, c *apptest.Client, account, decision string) apptest.Response {
	t.Helper()
	return l.Link(t, c, account, decision)
}

func (l *linked) signIn(t *testing.T, email string) *apptest.Client {
	c := l.srv.NewClient()
	c.SignIn(email, "user-password-1")
	return c
}

func (l *linked) userID(t *testing.T, email string) int64 {
	u, err := l.srv.App.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestLinkAccount(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex := l.signIn(t, "alex@contoso.test")
	r := alex.Get("/connect")
	if !strings.Contains(r.Body, "Connect your tools") || !strings.Contains(r.Body, `id="link"`) {
		t.Fatalf("connect page:\n%s", r.Body)
	}
	// The authorize request carries exactly what it must.
	alex.Get("/connect")
	start := alex.Post("/integrations/microsoft365/link", nil)
	u, _ := url.Parse(start.Location)
	q := u.Query()
	if u.Path != "/common/oauth2/v2.0/authorize" || q.Get("client_id") != sandbox.DefaultClientID || q.Get("response_mode") != "query" ||
		q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" ||
		q.Get("redirect_uri") != l.srv.URL+"/api/v1/microsoft365/auth/callback" ||
		q.Get("scope") != "openid email profile offline_access User.Read Mail.Read Mail.Send Mail.ReadWrite Calendars.Read Files.Read Files.ReadWrite" {
		t.Fatalf("authorize URL: %s", start.Location)
	}

	r = l.link(t, alex, "alex@contoso.test", "accept")
	if r.Status != http.StatusSeeOther || r.Location != "/connect" {
		t.Fatalf("callback: %d %s", r.Status, r.Location)
	}
	page := alex.Get("/connect").Body
	for _, want := range []string{"Linked Alex Wilber (alex@contoso.test)", `data-state="linked"`, "Work or school account", `id="unlink"`} {
		if !strings.Contains(page, want) {
			t.Errorf("linked tile lacks %q", want)
		}
	}
	link, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "alex@contoso.test"))
	if err != nil || link.TenantID != directory.Contoso.ID || link.ObjectID != "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c02" || link.RefreshToken == "" {
		t.Fatalf("stored link: %+v %v", link, err)
	}
	// The access token works at Graph.
	tok, err := l.srv.App.Tokens.AccessToken(context.Background(), link.UserID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", l.sbURL+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Graph with the linked token: %v", err)
	}
	resp.Body.Close()

	// Jo links a personal account.
	jo := l.signIn(t, "jo@outlook.test")
	l.link(t, jo, "jo@outlook.test", "accept")
	if page := jo.Get("/connect").Body; !strings.Contains(page, "Personal account") || !strings.Contains(page, "Jo Martin") {
		t.Fatal("personal account not shown as such")
	}
	// Continue ends "Connect your tools"; afterwards the Integrations page is home.
	jo.Post("/connect/done", nil)
	if r := l.srv.NewClient().SignIn("jo@outlook.test", "user-password-1"); r.Location != "/integrations" {
		t.Fatalf("after onboarding: %s", r.Location)
	}

	// Relinking with another Microsoft account replaces the link.
	l.link(t, alex, "admin@contoso.test", "accept")
	if link, _ := l.srv.App.Store.Link(context.Background(), link.UserID); link.Username != "admin@contoso.test" {
		t.Fatalf("relink: %+v", link)
	}
	// Unlink deletes it at once.
	alex.Get("/integrations")
	alex.Post("/integrations/microsoft365/unlink", nil)
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), link.UserID); !errors.Is(err, microsoft365.ErrNotLinked) {
		t.Fatalf("after unlink: %v", err)
	}
	// The audit log has the links and the unlink.
	events, _, _ := l.srv.App.Store.ListAudit(context.Background(), graphgate.AuditFilter{Actor: "alex@contoso.test"})
	actions := map[string]int{}
	for _, e := range events {
		actions[e.Action]++
	}
	if actions["microsoft365.link"] != 2 || actions["microsoft365.unlink"] != 1 {
		t.Fatalf("audit: %v", actions)
	}
}

func flashOf(c *apptest.Client, path string) string {
	page := c.Get(path).Body
	m := regexp.MustCompile(`<p class="flash (?:success|error)" role="status">([^<]*)</p>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestLinkFailuresStoreNothing(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex := l.signIn(t, "alex@contoso.test")
	id := l.userID(t, "alex@contoso.test")
	noLink := func(when string) {
		t.Helper()
		if _, err := l.srv.App.Store.Link(context.Background(), id); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
			t.Fatalf("%s: a link was stored", when)
		}
	}

	// Declining at Microsoft.
	l.link(t, alex, "alex@contoso.test", "cancel")
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "You declined") {
		t.Fatalf("decline message: %q", msg)
	}
	noLink("decline")

	// A callback without a state, with a made-up state, replayed, or another user's.
	for _, q := range []string{"", "?code=abc", "?state=made-up&code=abc"} {
		alex.Get("/api/v1/microsoft365/auth/callback" + q)
		if msg := flashOf(alex, "/connect"); msg == "" || strings.Contains(msg, "Linked") {
			t.Fatalf("callback %q: %q", q, msg)
		}
	}
	noLink("bad states")

	alex.Get("/integrations")
	start := alex.Post("/integrations/microsoft365/link", nil)
	back := l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	path := strings.TrimPrefix(back, l.srv.URL)
	sam := l.signIn(t, "sam@fabrikam.test")
	sam.Get(path)
	if msg := flashOf(sam, "/connect"); !strings.Contains(msg, "started by another graphgate account") {
		t.Fatalf("another user's callback: %q", msg)
	}
	// The state was spent by the attempt: alex cannot use it now either.
	alex.Get(path)
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "expired or was already used") {
		t.Fatalf("replayed callback: %q", msg)
	}
	noLink("another user's callback")
	if _, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "sam@fabrikam.test")); err == nil {
		t.Fatal("sam got alex's link")
	}

	// A successful callback cannot be replayed: the replay is refused
	// and leaves the link as the callback made it.
	if r := l.link(t, alex, "alex@contoso.test", "accept"); r.Status != http.StatusSeeOther {
		t.Fatalf("linking: %d", r.Status)
	}
	alex.Get("/integrations")
	start = alex.Post("/integrations/microsoft365/link", nil)
	back = l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	alex.Get(strings.TrimPrefix(back, l.srv.URL))
	linked, err := l.srv.App.Store.Link(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	alex.Get(strings.TrimPrefix(back, l.srv.URL))
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "expired or was already used") {
		t.Fatalf("replayed successful callback: %q", msg)
	}
	after, err := l.srv.App.Store.Link(context.Background(), id)
	if err != nil || after.RefreshToken != linked.RefreshToken || after.AccessToken != linked.AccessToken || !after.LinkedAt.Equal(linked.LinkedAt) {
		t.Fatalf("the replay changed the link: %v", err)
	}

	// An expired flow (10 minutes) is refused.
	alex.Get("/integrations")
	start = alex.Post("/integrations/microsoft365/link", nil)
	back = l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	if _, err := l.srv.App.Store.DB().Exec(`UPDATE oauth_flows SET expires_at = 0`); err != nil {
		t.Fatal(err)
	}
	alex.Get(strings.TrimPrefix(back, l.srv.URL))
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "expired") {
		t.Fatalf("expired flow: %q", msg)
	}

	// The integration disabled meanwhile.
	_ = l.srv.App.Store.DeleteLink(context.Background(), id)
	alex.Get("/integrations")
	start = alex.Post("/integrations/microsoft365/link", nil)
	back = l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	_, _ = l.srv.App.Web.Admin().SetM365Enabled(context.Background(), nil, false)
	alex.Get(strings.TrimPrefix(back, l.srv.URL))
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "turned Microsoft 365 off") {
		t.Fatalf("disabled meanwhile: %q", msg)
	}
	noLink("disabled meanwhile")
	if page := alex.Get("/connect").Body; !strings.Contains(page, `data-state="unavailable"`) {
		t.Fatal("tile not unavailable while disabled")
	}
}

func TestSingleTenantRefusesOtherTenants(t *testing.T) {
	l := startLinked(t, map[string]string{"GRAPHGATE_M365_AUTHORITY": directory.Contoso.ID}, sandbox.Options{SingleTenant: true})
	sam := l.signIn(t, "sam@fabrikam.test")
	l.link(t, sam, "sam@fabrikam.test", "accept")
	if msg := flashOf(sam, "/connect"); !strings.Contains(msg, "not in the organisation") {
		t.Fatalf("sam: %q", msg)
	}
	if _, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "sam@fabrikam.test")); err == nil {
		t.Fatal("sam linked in single-tenant mode")
	}
	alex := l.signIn(t, "alex@contoso.test")
	if r := l.link(t, alex, "alex@contoso.test", "accept"); r.Location != "/connect" || !strings.Contains(flashOf(alex, "/connect"), "Linked") {
		t.Fatal("alex could not link in his own tenant")
	}
}

func TestRevokedGrantTurnsIntoReconnect(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex, jo := l.signIn(t, "alex@contoso.test"), l.signIn(t, "jo@outlook.test")
	l.link(t, alex, "alex@contoso.test", "accept")
	l.link(t, jo, "jo@outlook.test", "accept")
	alexID, joID := l.userID(t, "alex@contoso.test"), l.userID(t, "jo@outlook.test")
	expire := func(id int64) {
		_, _ = l.srv.App.Store.UpdateLink(context.Background(), id, func(x *graphgate.Link) (*graphgate.Link, error) {
			x.AccessExpiresAt = time.Now().Add(-time.Minute)
			return x, nil
		})
	}
	l.sb.Identity.RevokeGrants(mustPerson(t, l.sb, "alex@contoso.test"))
	expire(alexID)
	expire(joID)
	_, err := l.srv.App.Tokens.AccessToken(context.Background(), alexID)
	var na *microsoft365.NeedsAttentionError
	if !errors.As(err, &na) || !strings.Contains(na.Reason, "revoked") {
		t.Fatalf("after revocation: %v", err)
	}
	page := alex.Get("/connect").Body
	if !strings.Contains(page, `data-state="reconnect"`) || !strings.Contains(page, `id="reconnect"`) || !strings.Contains(page, "password was changed") {
		t.Fatalf("tile after revocation:\n%s", page)
	}
	// Other people are not affected.
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), joID); err != nil {
		t.Fatalf("jo: %v", err)
	}
	// Reconnecting fixes it.
	l.link(t, alex, "alex@contoso.test", "accept")
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), alexID); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
	if !strings.Contains(alex.Get("/connect").Body, `data-state="linked"`) {
		t.Fatal("tile not linked after reconnect")
	}
}

func mustPerson(t *testing.T, sb *sandbox.Sandbox, upn string) *directory.Person {
	p, ok := sb.Directory.Person(upn)
	if !ok {
		t.Fatalf("no sandbox person %s", upn)
	}
	return p
}

func TestSecretRotationAndInvalidClient(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex := l.signIn(t, "alex@contoso.test")
	l.link(t, alex, "alex@contoso.test", "accept")
	id := l.userID(t, "alex@contoso.test")
	expire := func() {
		_, _ = l.srv.App.Store.UpdateLink(context.Background(), id, func(x *graphgate.Link) (*graphgate.Link, error) {
			x.AccessExpiresAt = time.Now().Add(-time.Minute)
			return x, nil
		})
	}
	// The admin rotates: Entra gets a new secret, graphgate is told, the
	// old one is deleted; the very next refresh uses the new one.
	newSecret := l.sb.Identity.ReplaceSecrets("", time.Time{})
	if _, err := l.srv.App.Web.Admin().RotateM365Secret(context.Background(), nil, newSecret.Value, ""); err != nil {
		t.Fatal(err)
	}
	l.sb.ResetRequests()
	expire()
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), id); err != nil {
		t.Fatalf("refresh with the rotated secret: %v", err)
	}
	if n := l.sb.Requests()["grant_type=refresh_token"]; n != 1 {
		t.Fatalf("%d refreshes", n)
	}
	// Entra's secret expires: Microsoft answers invalid_client, the link
	// stays, and the integration needs the admin's attention.
	l.sb.Identity.ExpireSecrets()
	expire()
	if _, err := l.srv.App.Tokens.AccessToken(context.Background(), id); err == nil {
		t.Fatal("refresh with an expired secret worked")
	}
	cfg, _ := l.srv.App.Store.M365Config(context.Background())
	if cfg.Status() != graphgate.StatusNeedsAttention || !strings.Contains(cfg.Attention, "7000222") {
		t.Fatalf("integration: %q %q", cfg.Status(), cfg.Attention)
	}
	if link, _ := l.srv.App.Store.Link(context.Background(), id); link.NeedsAttention() {
		t.Fatal("an app problem was blamed on the person's link")
	}
	admin := l.srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	if page := admin.Get("/admin/servers").Body; !strings.Contains(page, "AADSTS7000222") {
		t.Fatal("the console does not say why")
	}
}

// TestOneRefreshForManyCallers: 100 concurrent token requests for one person
// with an expired access token spend one refresh token, in one process and
// across two graphgate instances sharing one database.
func TestOneRefreshForManyCallers(t *testing.T) {
	t.Run("one instance", func(t *testing.T) {
		l := startLinked(t, nil, sandbox.Options{})
		alex := l.signIn(t, "alex@contoso.test")
		l.link(t, alex, "alex@contoso.test", "accept")
		assertOneRefresh(t, l, []*microsoft365.Tokens{l.srv.App.Tokens}, l.userID(t, "alex@contoso.test"))
	})
	t.Run("two instances on one database", func(t *testing.T) {
		l, second := twoReplicas(t)
		alex := l.signIn(t, "alex@contoso.test")
		l.link(t, alex, "alex@contoso.test", "accept")
		assertOneRefresh(t, l, []*microsoft365.Tokens{l.srv.App.Tokens, second.App.Tokens}, l.userID(t, "alex@contoso.test"))
	})
}

const testKey = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="

func assertOneRefresh(t *testing.T, l *linked, sources []*microsoft365.Tokens, id int64) {
	t.Helper()
	_, _ = l.srv.App.Store.UpdateLink(context.Background(), id, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.AccessExpiresAt = time.Now().Add(-time.Minute)
		return x, nil
	})
	l.sb.ResetRequests()
	var wg sync.WaitGroup
	tokens := make(chan string, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := sources[i%len(sources)].AccessToken(context.Background(), id)
			if err != nil {
				t.Error(err)
			}
			tokens <- tok
		}()
	}
	wg.Wait()
	close(tokens)
	distinct := map[string]bool{}
	for tok := range tokens {
		distinct[tok] = true
	}
	if n := l.sb.Requests()["grant_type=refresh_token"]; n != 1 {
		t.Fatalf("the sandbox counted %d refreshes, want 1", n)
	}
	if len(distinct) != 1 {
		t.Fatalf("%d different access tokens handed out", len(distinct))
	}
	// The rotated refresh token was stored before the access token went out.
	link, _ := l.srv.App.Store.Link(context.Background(), id)
	for tok := range distinct {
		if link.AccessToken != tok {
			t.Fatal("the handed-out token is not the stored one")
		}
	}
}

func TestAgentTokensOnIntegrations(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex, sam := l.signIn(t, "alex@contoso.test"), l.signIn(t, "sam@fabrikam.test")
	alex.Get("/integrations")
	if r := alex.Post("/integrations/tokens", url.Values{"name": {""}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("nameless token: %d", r.Status)
	}
	r := alex.Post("/integrations/tokens", url.Values{"name": {"Claude"}, "expires": {"30"}, "readOnly": {"on"}, "confirmWrites": {"on"}, "toolsets": {"mail", "calendar"}})
	m := regexp.MustCompile(`id="new-token">(ggt_[A-Za-z0-9]{43})<`).FindStringSubmatch(r.Body)
	if r.Status != http.StatusCreated || m == nil {
		t.Fatalf("create token: %d", r.Status)
	}
	// Shown once: the list shows only its prefix.
	page := alex.Get("/integrations").Body
	if strings.Contains(page, m[1]) || !strings.Contains(page, m[1][:10]) || !strings.Contains(page, "read-only · mail, calendar · asks before sending or deleting") {
		t.Fatal("token list")
	}
	toks, _ := l.srv.App.Store.ListAPITokens(context.Background(), l.userID(t, "alex@contoso.test"))
	if len(toks) != 1 || !toks[0].ReadOnly || !toks[0].ConfirmWrites || toks[0].ExpiresAt.IsZero() || toks[0].Kind != graphgate.TokenAgent {
		t.Fatalf("stored token: %+v", toks)
	}
	// Sam cannot revoke alex's token.
	sam.Get("/integrations")
	sam.Post("/integrations/tokens/"+itoa(toks[0].ID)+"/revoke", nil)
	if got, _ := l.srv.App.Store.APITokenByHash(context.Background(), toks[0].Hash); !got.RevokedAt.IsZero() {
		t.Fatal("another user revoked alex's token")
	}
	alex.Get("/integrations")
	alex.Post("/integrations/tokens/"+itoa(toks[0].ID)+"/revoke", nil)
	if got, _ := l.srv.App.Store.APITokenByHash(context.Background(), toks[0].Hash); got.RevokedAt.IsZero() {
		t.Fatal("not revoked")
	}
}

func TestNoTokenInClearAfterLinking(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex := l.signIn(t, "alex@contoso.test")
	l.link(t, alex, "alex@contoso.test", "accept")
	link, _ := l.srv.App.Store.Link(context.Background(), l.userID(t, "alex@contoso.test"))
	dump := storetest.DumpTables(t, l.srv.App.Store.DB())
	if !strings.Contains(dump, link.ObjectID) {
		t.Fatal("the dump lacks even the object id")
	}
	for _, secret := range []string{link.RefreshToken, link.AccessToken, sandbox.DefaultClientSecret} {
		if strings.Contains(dump, secret) {
			t.Fatal("a token is stored in clear")
		}
	}
}

// TestRedemptionRefusedClient: when Microsoft refuses graphgate's secret at
// the code redemption, nothing is linked, the person is told, and the
// integration needs the admin's attention.
func TestRedemptionRefusedClient(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	alex := l.signIn(t, "alex@contoso.test")
	alex.Get("/integrations")
	start := alex.Post("/integrations/microsoft365/link", nil)
	back := l.atMicrosoft(t, start.Location, "alex@contoso.test", "accept")
	l.sb.Identity.ReplaceSecrets("", time.Time{}) // the admin deleted the secret in Entra
	alex.Get(strings.TrimPrefix(back, l.srv.URL))
	if msg := flashOf(alex, "/connect"); !strings.Contains(msg, "own credentials, so nothing was linked") {
		t.Fatalf("message: %q", msg)
	}
	if _, err := l.srv.App.Store.Link(context.Background(), l.userID(t, "alex@contoso.test")); err == nil {
		t.Fatal("linked despite the refusal")
	}
	cfg, _ := l.srv.App.Store.M365Config(context.Background())
	if cfg.Status() != graphgate.StatusNeedsAttention || !strings.Contains(cfg.Attention, "7000215") {
		t.Fatalf("integration: %q %q", cfg.Status(), cfg.Attention)
	}
}

// TestKeepAliveRefreshesAnIdleLinkOnce: two replicas on one PostgreSQL run
// the keep-alive pass at the same moment; the idle link is refreshed exactly
// once, the fresh one and the one that needs attention not at all.
func TestKeepAliveRefreshesAnIdleLinkOnce(t *testing.T) {
	l, second := twoReplicas(t)
	keepAliveOnce(t, l, []*microsoft365.KeepAlive{l.srv.App.KeepAlive, second.App.KeepAlive})
}

// The same on SQLite, one replica running two passes at once.
func TestKeepAliveOnSQLite(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	if l.srv.App.Store.Dialect() != "sqlite" {
		t.Fatalf("store %s", l.srv.App.Store.Dialect())
	}
	keepAliveOnce(t, l, []*microsoft365.KeepAlive{l.srv.App.KeepAlive, l.srv.App.KeepAlive})
}

// keepAliveOnce runs the keep-alive passes at once over an idle link, a
// fresh one and one that needs attention.
func keepAliveOnce(t *testing.T, l *linked, jobs []*microsoft365.KeepAlive) {
	t.Helper()
	for _, who := range []string{"alex@contoso.test", "sam@fabrikam.test", "jo@outlook.test"} {
		l.link(t, l.signIn(t, who), who, "accept")
	}
	ctx := context.Background()
	alex, sam, jo := l.userID(t, "alex@contoso.test"), l.userID(t, "sam@fabrikam.test"), l.userID(t, "jo@outlook.test")
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, id := range []int64{alex, jo} {
		if _, err := l.srv.App.Store.UpdateLink(ctx, id, func(x *graphgate.Link) (*graphgate.Link, error) {
			x.LastRefreshAt = old
			if id == jo {
				x.Reason = "needs attention"
			}
			return x, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := l.srv.App.Store.Link(ctx, alex)
	l.sb.ResetRequests()
	for _, k := range jobs {
		k.Age = 30 * 24 * time.Hour // before any runs: a job may be passed twice
	}
	var wg sync.WaitGroup
	for _, k := range jobs {
		wg.Go(func() {
			if _, err := k.RunOnce(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := l.sb.Requests()["grant_type=refresh_token"]; n != 1 {
		t.Fatalf("%d refreshes for one idle link", n)
	}
	after, _ := l.srv.App.Store.Link(ctx, alex)
	if !after.LastRefreshAt.After(before.LastRefreshAt) || after.RefreshToken == before.RefreshToken {
		t.Fatal("the idle link was not refreshed")
	}
	if s, _ := l.srv.App.Store.Link(ctx, sam); !s.LastRefreshAt.IsZero() {
		t.Fatal("a recently linked person was refreshed")
	}
	// Once more: nothing is idle now.
	if n, err := jobs[1].RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a second pass refreshed %d (%v)", n, err)
	}
	adminC := l.srv.NewClient()
	adminC.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	if page := adminC.Get("/admin/audit").Body; !strings.Contains(page, "microsoft365.keepalive") {
		t.Fatal("the keep-alive refresh is not audited")
	}
}
