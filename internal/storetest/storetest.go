// Package storetest is the one test suite every graphgate.Store backend
// must pass: SQLite always, PostgreSQL when a server is available.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/secretbox"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// NewDB prepares a fresh, empty database for one test and returns how to
// open a store on it; every call of open is another connection to the same
// database, as another replica would have.
type NewDB func(t *testing.T) (open func(keys *secretbox.Keyring) graphgate.Store)

// clockOffset moves Now, the clock stores under test read (opened with
// sqlstore.Options{Now: storetest.Now}), for tests of expiry and grace.
var clockOffset atomic.Int64

// Now is the suite's clock: the real time, moved on by advance.
func Now() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

// advance moves the suite's clock on by d until the returned function, or
// the end of the test, moves it back.
func advance(t *testing.T, d time.Duration) (back func()) {
	var once sync.Once
	clockOffset.Add(int64(d))
	back = func() { once.Do(func() { clockOffset.Add(-int64(d)) }) }
	t.Cleanup(back)
	return back
}

// RunTests runs the suite.
func RunTests(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(*secretbox.Keyring) graphgate.Store)
	}{
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"M365Config", testM365Config},
		{"ConcurrentConfigUpdatesFromTwoReplicas", testConcurrentConfigUpdates},
		{"APITokens", testAPITokens},
		{"Audit", testAudit},
		{"ReencryptUnderANewKey", testReencrypt},
		{"NothingSecretInClear", testNothingInClear},
		{"OAuthFlows", testOAuthFlows},
		{"Links", testLinks},
		{"ConcurrentLinkUpdatesFromTwoReplicas", testConcurrentLinkUpdates},
		{"Downloads", testDownloads},
		{"PendingSends", testPendingSends},
		{"Approvals", testApprovals},
		{"Cursors", testCursors},
		{"MCPClients", testMCPClients},
		{"OAuthServer", testOAuthServer},
		{"SignIn", testSignIn},
		{"LinkHealth", testLinkHealth},
		{"Capabilities", testCapabilities},
		{"Ready", testReady},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newDB(t))
		})
	}
}

func keyring(t *testing.T, keys ...string) *secretbox.Keyring {
	t.Helper()
	var raw [][]byte
	for _, k := range keys {
		parsed, err := secretbox.ParseKeys(k)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, parsed...)
	}
	kr, err := secretbox.New(raw...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := graphgate.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

func testUsers(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("count on empty store: %d %v", n, err)
	}
	u := &graphgate.User{Email: "Alex@Contoso.test", Name: "Alex", Role: graphgate.RoleUser, PasswordHash: "hash"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "alex@contoso.test" || u.CreatedAt.IsZero() {
		t.Fatalf("created %+v", u)
	}
	code(t, s.CreateUser(ctx, &graphgate.User{Email: "ALEX@contoso.test", Role: graphgate.RoleUser, PasswordHash: "x"}), graphgate.ECONFLICT)
	got, err := s.UserByEmail(ctx, "  alex@CONTOSO.test ")
	if err != nil || got.ID != u.ID || got.Role != graphgate.RoleUser || !got.OnboardedAt.IsZero() {
		t.Fatalf("by email: %+v %v", got, err)
	}
	_, err = s.UserByID(ctx, u.ID+1000)
	code(t, err, graphgate.ENOTFOUND)
	now := time.Now().UTC().Truncate(time.Millisecond)
	up, err := s.UpdateUser(ctx, u.ID, func(u *graphgate.User) error {
		u.Role, u.OnboardedAt = graphgate.RoleAdmin, now
		return nil
	})
	if err != nil || up.Role != graphgate.RoleAdmin || !up.OnboardedAt.Equal(now) {
		t.Fatalf("update: %+v %v", up, err)
	}
	// A failing update changes nothing.
	_, err = s.UpdateUser(ctx, u.ID, func(u *graphgate.User) error {
		u.Name = "changed"
		return graphgate.Errorf(graphgate.EINVALID, "no")
	})
	code(t, err, graphgate.EINVALID)
	if got, _ := s.UserByID(ctx, u.ID); got.Name != "Alex" || !got.OnboardedAt.Equal(now) {
		t.Fatalf("after a refused update: %+v", got)
	}
	other := &graphgate.User{Email: "sam@fabrikam.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	if err := s.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateUser(ctx, other.ID, func(u *graphgate.User) error { u.Email = "alex@contoso.test"; return nil })
	code(t, err, graphgate.ECONFLICT)
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "alex@contoso.test" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := s.DeleteUser(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	code(t, s.DeleteUser(ctx, other.ID), graphgate.ENOTFOUND)
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Fatalf("count after delete: %d", n)
	}
}

func testSessions(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	sess := &graphgate.Session{TokenHash: "h1", UserID: u.ID, CSRF: "csrf-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionByHash(ctx, "h1")
	if err != nil || got.UserID != u.ID || got.CSRF != "csrf-1" {
		t.Fatalf("session: %+v %v", got, err)
	}
	expired := &graphgate.Session{TokenHash: "h2", UserID: u.ID, CSRF: "c", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := s.CreateSession(ctx, expired); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "h2")
	code(t, err, graphgate.ENOTFOUND)
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "h1")
	code(t, err, graphgate.ENOTFOUND)
	// Deleting a user ends their sessions.
	_ = s.CreateSession(ctx, &graphgate.Session{TokenHash: "h3", UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	_ = s.CreateSession(ctx, &graphgate.Session{TokenHash: "h4", UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "h3")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreateSession(ctx, &graphgate.Session{TokenHash: "h5", UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "h5")
	code(t, err, graphgate.ENOTFOUND)
}

func sampleConfig() *graphgate.M365Config {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &graphgate.M365Config{ClientID: "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59", ClientSecret: "abc8Q~the-secret-value-0000000000000000",
		SecretHint: "…0000", SecretSetAt: now, SecretExpiresAt: now.AddDate(2, 0, 0),
		RedirectURI: "http://localhost:8080/api/v1/microsoft365/auth/callback", Enabled: true}
}

func testM365Config(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	_, err := s.M365Config(ctx)
	code(t, err, graphgate.ENOTFOUND)
	want := sampleConfig()
	if _, err := s.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur != nil {
			t.Errorf("first update saw %+v", cur)
		}
		return want, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.M365Config(ctx)
	if err != nil || got.ClientSecret != want.ClientSecret || got.ClientID != want.ClientID || !got.SecretExpiresAt.Equal(want.SecretExpiresAt) ||
		!got.Enabled || got.Status() != graphgate.StatusActive || got.UpdatedAt.IsZero() {
		t.Fatalf("read back %+v %v", got, err)
	}
	// A refused update changes nothing.
	_, err = s.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		cur.Enabled = false
		return nil, graphgate.Errorf(graphgate.EINVALID, "no")
	})
	code(t, err, graphgate.EINVALID)
	if got, _ := s.M365Config(ctx); !got.Enabled {
		t.Fatal("a refused update was written")
	}
	if _, err := s.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		cur.Attention, cur.AttentionAt = "AADSTS7000222: expired", time.Now()
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.M365Config(ctx); got.Status() != graphgate.StatusNeedsAttention {
		t.Fatalf("status %q", got.Status())
	}
	if n, err := s.CountLinks(ctx); err != nil || n != 0 {
		t.Fatalf("links: %d %v", n, err)
	}
	if n, err := s.DeleteM365Config(ctx); err != nil || n != 0 {
		t.Fatalf("delete: %d %v", n, err)
	}
	_, err = s.M365Config(ctx)
	code(t, err, graphgate.ENOTFOUND)
	_, err = s.DeleteM365Config(ctx)
	code(t, err, graphgate.ENOTFOUND)
}

// testConcurrentConfigUpdates runs read-modify-writes from two stores on one
// database at once: none may be lost.
func testConcurrentConfigUpdates(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	key := secretbox.NewKey()
	a, b := open(keyring(t, key)), open(keyring(t, key))
	if _, err := a.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) {
		c := sampleConfig()
		c.Attention = ""
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	const perReplica = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*perReplica)
	for _, s := range []graphgate.Store{a, b} {
		for range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
					cur.Attention += "x"
					return cur, nil
				})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := b.M365Config(ctx)
	if len(got.Attention) != 2*perReplica {
		t.Fatalf("%d of %d updates survived", len(got.Attention), 2*perReplica)
	}
}

func testAPITokens(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	alice := &graphgate.User{Email: "alice@x.test", Role: graphgate.RoleAdmin, PasswordHash: "h"}
	bob := &graphgate.User{Email: "bob@x.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, alice)
	_ = s.CreateUser(ctx, bob)
	tok := &graphgate.APIToken{UserID: alice.ID, Kind: graphgate.TokenAdmin, Name: "ci", Prefix: "ggt_abcd", Hash: "hash-1",
		ReadOnly: true, Toolsets: []string{"mail", "files"}, ConfirmWrites: true, ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)}
	if err := s.CreateAPIToken(ctx, tok); err != nil || tok.ID == 0 {
		t.Fatalf("create: %v", err)
	}
	got, err := s.APITokenByHash(ctx, "hash-1")
	if err != nil || got.Name != "ci" || !got.ReadOnly || !got.ConfirmWrites || strings.Join(got.Toolsets, ",") != "mail,files" || got.Kind != graphgate.TokenAdmin {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if got.Owner == nil || got.Owner.ID != alice.ID || got.Owner.Email != "alice@x.test" || got.Owner.Role != graphgate.RoleAdmin {
		t.Fatalf("by hash, the owner: %+v", got.Owner)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.TouchAPIToken(ctx, tok.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.APITokenByHash(ctx, "hash-1"); !got.LastUsedAt.Equal(at) {
		t.Fatalf("last used %v, want %v", got.LastUsedAt, at)
	}
	code(t, s.RevokeAPIToken(ctx, bob.ID, tok.ID), graphgate.ENOTFOUND) // not bob's
	if err := s.RevokeAPIToken(ctx, alice.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.APITokenByHash(ctx, "hash-1"); got.RevokedAt.IsZero() {
		t.Fatal("not revoked")
	}
	list, _ := s.ListAPITokens(ctx, alice.ID)
	if len(list) != 1 {
		t.Fatalf("list: %d", len(list))
	}
	if list, _ := s.ListAPITokens(ctx, bob.ID); len(list) != 0 {
		t.Fatal("bob sees alice's token")
	}
}

func testAudit(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 30 {
		action := "m365.update"
		if i%3 == 0 {
			action = "user.create"
		}
		if err := s.AddAudit(ctx, &graphgate.AuditEvent{At: base.Add(time.Duration(i) * time.Minute), ActorEmail: fmt.Sprintf("admin%d@x.test", i%2),
			Action: action, Target: "microsoft365", Details: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := s.ListAudit(ctx, graphgate.AuditFilter{Limit: 7})
	if err != nil || total != 30 || len(page) != 7 || page[0].Details["n"] != "29" {
		t.Fatalf("first page: %d of %d, first %v, %v", len(page), total, page[0].Details, err)
	}
	page, _, _ = s.ListAudit(ctx, graphgate.AuditFilter{Limit: 7, Offset: 28})
	if len(page) != 2 {
		t.Fatalf("last page: %d", len(page))
	}
	page, total, _ = s.ListAudit(ctx, graphgate.AuditFilter{Action: "user.create", Actor: "ADMIN1"})
	for _, e := range page {
		if e.Action != "user.create" || e.ActorEmail != "admin1@x.test" {
			t.Fatalf("filtered: %+v", e)
		}
	}
	if total != 5 {
		t.Fatalf("filtered total %d", total)
	}
	_, total, _ = s.ListAudit(ctx, graphgate.AuditFilter{Since: base.Add(10 * time.Minute), Until: base.Add(20 * time.Minute)})
	if total != 10 {
		t.Fatalf("time window total %d", total)
	}

	// Several at once: all stored, each with its own ID.
	batch := []*graphgate.AuditEvent{
		{At: base.Add(time.Hour), Action: "tool.call", Target: "list_messages"},
		{At: base.Add(time.Hour), Action: "tool.call", Target: "get_message"},
		{At: base.Add(time.Hour), Action: "tool.call", Target: "send_message"},
	}
	if err := s.AddAudit(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	if batch[0].ID == 0 || batch[0].ID == batch[1].ID || batch[1].ID == batch[2].ID {
		t.Fatalf("batch IDs %d %d %d", batch[0].ID, batch[1].ID, batch[2].ID)
	}
	page, total, _ = s.ListAudit(ctx, graphgate.AuditFilter{Action: "tool.call"})
	if total != 3 || len(page) != 3 {
		t.Fatalf("batch: %d stored", total)
	}
}

func testReencrypt(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	s := open(keyring(t, oldKey))
	_, _ = s.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) { return sampleConfig(), nil })
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	_ = s.CreateSession(ctx, &graphgate.Session{TokenHash: "t", UserID: u.ID, CSRF: "c", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})

	// With only the new key, old values cannot be read.
	if _, err := open(keyring(t, newKey)).M365Config(ctx); err == nil {
		t.Fatal("read a value sealed with a key that is not configured")
	}
	both := open(keyring(t, newKey, oldKey))
	n, err := both.Reencrypt(ctx)
	if err != nil || n != 2 {
		t.Fatalf("reencrypt: %d %v", n, err)
	}
	if n, _ := both.Reencrypt(ctx); n != 0 {
		t.Fatalf("second reencrypt rewrote %d", n)
	}
	onlyNew := open(keyring(t, newKey))
	got, err := onlyNew.M365Config(ctx)
	if err != nil || got.ClientSecret != sampleConfig().ClientSecret {
		t.Fatalf("after rotation: %v", err)
	}
	if sess, err := onlyNew.SessionByHash(ctx, "t"); err != nil || sess.CSRF != "c" {
		t.Fatalf("session after rotation: %v", err)
	}
}

// dumper is implemented by stores that can show their raw tables.
type dumper interface{ DB() *sql.DB }

func testNothingInClear(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	d, ok := s.(dumper)
	if !ok {
		t.Skip("store cannot be dumped")
	}
	cfg := sampleConfig()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) { return cfg, nil })
	must(err)
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	must(s.CreateUser(ctx, u))
	must(s.CreateSession(ctx, &graphgate.Session{TokenHash: "t", UserID: u.ID, CSRF: "csrf-secret-value", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}))
	must(s.CreateOAuthFlow(ctx, &graphgate.OAuthFlow{StateHash: "sh", UserID: u.ID, Verifier: "verifier-secret-value", Nonce: "n",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}))
	must(s.PutLink(ctx, sampleLink(u.ID)))
	if _, err := s.AskApproval(ctx, &graphgate.Approval{ID: "a", Key: "k", UserID: u.ID, Label: "ggt_x", Tool: "send_message",
		Summary: "Send this email? To: board@x.test", ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursor(ctx, &graphgate.Cursor{ID: "c1", UserID: u.ID, Path: "me/messages?$search=%22payroll-secret%22", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	dump := DumpTables(t, d.DB())
	// The dump read the rows: what is not secret is there in clear.
	for _, sentinel := range []string{"a@b.test", cfg.ClientID, sampleLink(0).ObjectID, "send_message", "c1"} {
		if !strings.Contains(dump, sentinel) {
			t.Fatalf("the dump lacks %q: it did not read the rows", sentinel)
		}
	}
	for _, secret := range []string{cfg.ClientSecret, "csrf-secret-value", "verifier-secret-value", sampleLink(0).RefreshToken, sampleLink(0).AccessToken, "board@x.test", "payroll-secret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("the database holds %q in clear", secret)
		}
	}
}

// DumpTables returns every row of every graphgate table as text, like a
// database dump, for tests that check what is stored in clear.
func DumpTables(t testing.TB, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "sessions", "m365_config", "links", "oauth_flows", "downloads", "uploads", "api_tokens", "audit_log", "pending_sends", "approvals", "cursors", "oauth_tokens", "oauth_codes"} {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(&b, "%s\t", v)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

func testReady(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	s := open(keyring(t, secretbox.NewKey()))
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Ready(context.Background()); err == nil {
		t.Fatal("ready after close")
	}
}

// FreshPostgresDB creates a database on the server at base for one test and
// drops it afterwards; it returns the new database's URL.
func FreshPostgresDB(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "gg_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// linkThenUnlink links the person and unlinks them: what ends everything
// their link made possible.
func linkThenUnlink(t *testing.T, s graphgate.Store, userID int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.PutLink(ctx, &graphgate.Link{UserID: userID, TenantID: "t", ObjectID: "o", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLink(ctx, userID); err != nil {
		t.Fatal(err)
	}
}

func sampleLink(userID int64) *graphgate.Link {
	return &graphgate.Link{UserID: userID, TenantID: "2f6b3c1e-8a4d-4f0b-9c7e-5d1a2b3c4d5e", ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c02",
		Username: "alex@contoso.test", DisplayName: "Alex Wilber", RefreshToken: "M.C5-refresh-token-value", AccessToken: "EwB-access-token-value",
		AccessExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)}
}

func testOAuthFlows(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	now := time.Now().UTC()
	f := &graphgate.OAuthFlow{StateHash: "state-1", UserID: u.ID, Verifier: "v1", Nonce: "n1", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateOAuthFlow(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeOAuthFlow(ctx, "state-1")
	if err != nil || got.Verifier != "v1" || got.Nonce != "n1" || got.UserID != u.ID {
		t.Fatalf("consume: %+v %v", got, err)
	}
	_, err = s.ConsumeOAuthFlow(ctx, "state-1")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreateOAuthFlow(ctx, &graphgate.OAuthFlow{StateHash: "old", UserID: u.ID, Verifier: "v", Nonce: "n", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)})
	_, err = s.ConsumeOAuthFlow(ctx, "old")
	code(t, err, graphgate.ENOTFOUND)
	// Two callbacks racing with one state: exactly one wins.
	_ = s.CreateOAuthFlow(ctx, &graphgate.OAuthFlow{StateHash: "race", UserID: u.ID, Verifier: "v", Nonce: "n", CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ConsumeOAuthFlow(ctx, "race"); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d callbacks consumed one state", wins)
	}
}

func testLinks(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	other := &graphgate.User{Email: "c@d.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	_ = s.CreateUser(ctx, other)
	_, err := s.Link(ctx, u.ID)
	code(t, err, graphgate.ENOTFOUND)
	want := sampleLink(u.ID)
	if err := s.PutLink(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Link(ctx, u.ID)
	if err != nil || got.RefreshToken != want.RefreshToken || got.AccessToken != want.AccessToken || got.ObjectID != want.ObjectID ||
		!got.AccessExpiresAt.Equal(want.AccessExpiresAt) || got.LinkedAt.IsZero() || got.NeedsAttention() {
		t.Fatalf("link: %+v %v", got, err)
	}
	// For a tool call: the link and whether Microsoft 365 is on, in one
	// read; not configured reads as off.
	if l, on, err := s.LinkForCall(ctx, u.ID); err != nil || on || l.AccessToken != want.AccessToken {
		t.Fatalf("link for a call, not configured: %+v %v %v", l, on, err)
	}
	for _, enabled := range []bool{true, false} {
		if _, err := s.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) {
			c := sampleConfig()
			c.Enabled = enabled
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
		if l, on, err := s.LinkForCall(ctx, u.ID); err != nil || on != enabled || l.RefreshToken != want.RefreshToken {
			t.Fatalf("link for a call, enabled %v: %+v %v %v", enabled, l, on, err)
		}
	}
	_, _, err = s.LinkForCall(ctx, other.ID)
	code(t, err, graphgate.ENOTFOUND)
	// Relinking replaces, with a new linked-since time.
	again := sampleLink(u.ID)
	again.ObjectID, again.Username, again.LinkedAt = "00000000-0000-0000-6a1c-3e5f7b9d2c04", "jo@outlook.test", time.Time{}
	_ = s.PutLink(ctx, again)
	if got, _ := s.Link(ctx, u.ID); got.Username != "jo@outlook.test" {
		t.Fatalf("relink: %+v", got)
	}
	up, err := s.UpdateLink(ctx, u.ID, func(l *graphgate.Link) (*graphgate.Link, error) {
		l.Reason, l.AccessToken = "revoked", ""
		return l, nil
	})
	if err != nil || !up.NeedsAttention() {
		t.Fatalf("update: %+v %v", up, err)
	}
	if got, _ := s.Link(ctx, u.ID); got.AccessToken != "" || got.Reason != "revoked" {
		t.Fatalf("after update: %+v", got)
	}
	_, err = s.UpdateLink(ctx, other.ID, func(l *graphgate.Link) (*graphgate.Link, error) { return l, nil })
	code(t, err, graphgate.ENOTFOUND)
	if n, _ := s.CountLinks(ctx); n != 1 {
		t.Fatalf("count %d", n)
	}
	code(t, s.DeleteLink(ctx, other.ID), graphgate.ENOTFOUND)
	if err := s.DeleteLink(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	// Removing the integration removes every link; removing a user, theirs.
	_, _ = s.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) { return sampleConfig(), nil })
	_ = s.PutLink(ctx, sampleLink(u.ID))
	_ = s.PutLink(ctx, sampleLink(other.ID))
	_ = s.DeleteUser(ctx, other.ID)
	if n, _ := s.CountLinks(ctx); n != 1 {
		t.Fatalf("after deleting a user: %d links", n)
	}
	if n, err := s.DeleteM365Config(ctx); err != nil || n != 1 {
		t.Fatalf("remove integration: %d %v", n, err)
	}
}

// testConcurrentLinkUpdates is the refresh race: read-modify-writes of one
// link from two stores at once must serialise.
func testConcurrentLinkUpdates(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	key := secretbox.NewKey()
	a, b := open(keyring(t, key)), open(keyring(t, key))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = a.CreateUser(ctx, u)
	l := sampleLink(u.ID)
	l.RefreshToken = ""
	_ = a.PutLink(ctx, l)
	const perReplica = 15
	var wg sync.WaitGroup
	for _, s := range []graphgate.Store{a, b} {
		for range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UpdateLink(ctx, u.ID, func(l *graphgate.Link) (*graphgate.Link, error) {
					l.RefreshToken += "x"
					return l, nil
				}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	got, _ := b.Link(ctx, u.ID)
	if len(got.RefreshToken) != 2*perReplica {
		t.Fatalf("%d of %d link updates survived", len(got.RefreshToken), 2*perReplica)
	}
}

func testDownloads(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	d := &graphgate.Download{TokenHash: "d1", UserID: u.ID, Source: "me/drive/items/x/content", Name: "a.pdf", ContentType: "application/pdf",
		ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateDownload(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeDownload(ctx, "d1")
	if err != nil || got.Source != d.Source || got.UserID != u.ID || got.Name != "a.pdf" {
		t.Fatalf("consume: %+v %v", got, err)
	}
	_, err = s.ConsumeDownload(ctx, "d1")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreateDownload(ctx, &graphgate.Download{TokenHash: "old", UserID: u.ID, Source: "x", Name: "n", ContentType: "c", ExpiresAt: time.Now().Add(-time.Second)})
	_, err = s.ConsumeDownload(ctx, "old")
	code(t, err, graphgate.ENOTFOUND)

	up := &graphgate.Upload{TokenHash: "u1", UserID: u.ID, Target: "me/drive/root:/big.bin:", Conflict: "rename", ExpiresAt: time.Now().Add(time.Minute),
		AttachmentName: "big.bin", ContentType: "application/zip"}
	if err := s.CreateUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	if peek, err := s.Upload(ctx, "u1"); err != nil || peek.AttachmentName != "big.bin" {
		t.Fatalf("upload, unspent: %+v %v", peek, err)
	}
	gotUp, err := s.ConsumeUpload(ctx, "u1")
	if err != nil || gotUp.Target != up.Target || gotUp.Conflict != "rename" || gotUp.AttachmentName != "big.bin" || gotUp.ContentType != "application/zip" {
		t.Fatalf("consume upload: %+v %v", gotUp, err)
	}
	_, err = s.ConsumeUpload(ctx, "u1")
	code(t, err, graphgate.ENOTFOUND)
	_, err = s.Upload(ctx, "u1")
	code(t, err, graphgate.ENOTFOUND)

	// Revoking a token ends the links it made, and only those; unlinking
	// ends every link of the person.
	tokA := &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "a", Prefix: "ggt_a", Hash: "ha"}
	tokB := &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "b", Prefix: "ggt_b", Hash: "hb"}
	for _, tok := range []*graphgate.APIToken{tokA, tokB} {
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Minute)
	for _, d := range []*graphgate.Download{{TokenHash: "da", TokenID: tokA.ID}, {TokenHash: "db", TokenID: tokB.ID}, {TokenHash: "db2", TokenID: tokB.ID}} {
		d.UserID, d.Source, d.Name, d.ContentType, d.ExpiresAt = u.ID, "x", "n", "c", later
		if err := s.CreateDownload(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, up := range []*graphgate.Upload{{TokenHash: "ua", TokenID: tokA.ID}, {TokenHash: "ub", TokenID: tokB.ID}} {
		up.UserID, up.Target, up.Conflict, up.ExpiresAt = u.ID, "t", "fail", later
		if err := s.CreateUpload(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAPIToken(ctx, u.ID, tokA.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeDownload(ctx, "da")
	code(t, err, graphgate.ENOTFOUND)
	_, err = s.ConsumeUpload(ctx, "ua")
	code(t, err, graphgate.ENOTFOUND)
	if got, err := s.ConsumeDownload(ctx, "db"); err != nil || got.TokenID != tokB.ID {
		t.Fatalf("another token's link: %+v %v", got, err)
	}
	linkThenUnlink(t, s, u.ID)
	_, err = s.ConsumeDownload(ctx, "db2")
	code(t, err, graphgate.ENOTFOUND)
	_, err = s.ConsumeUpload(ctx, "ub")
	code(t, err, graphgate.ENOTFOUND)
}

func testPendingSends(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	tok := &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "a", Prefix: "ggt_a", Hash: "ha"}
	if err := s.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)

	// Eight attachments arriving at once from as many replicas: exactly
	// one arrival sees zero, and then the send is gone.
	const n = 8
	if err := s.CreatePendingSend(ctx, &graphgate.PendingSend{ID: "s1", UserID: u.ID, TokenID: tok.ID, Target: "me/messages/d1", Remaining: n, ExpiresAt: later}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	for range n {
		wg.Go(func() {
			p, err := s.UploadArrived(ctx, "s1")
			if err != nil {
				t.Error(err)
				return
			}
			if p.Target != "me/messages/d1" || p.UserID != u.ID || p.TokenID != tok.ID {
				t.Errorf("arrived: %+v", p)
			}
			mu.Lock()
			seen[p.Remaining]++
			mu.Unlock()
		})
	}
	wg.Wait()
	for left := range n {
		if seen[left] != 1 {
			t.Fatalf("remaining counts seen: %v", seen)
		}
	}
	_, err := s.UploadArrived(ctx, "s1")
	code(t, err, graphgate.ENOTFOUND)

	// Past its time, or once its token is revoked or the person unlinks,
	// a send never completes.
	_ = s.CreatePendingSend(ctx, &graphgate.PendingSend{ID: "old", UserID: u.ID, Target: "t", Remaining: 1, ExpiresAt: time.Now().Add(-time.Second)})
	_, err = s.UploadArrived(ctx, "old")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreatePendingSend(ctx, &graphgate.PendingSend{ID: "revoked", UserID: u.ID, TokenID: tok.ID, Target: "t", Remaining: 1, ExpiresAt: later})
	_ = s.CreatePendingSend(ctx, &graphgate.PendingSend{ID: "unlinked", UserID: u.ID, Target: "t", Remaining: 1, ExpiresAt: later})
	if err := s.RevokeAPIToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.UploadArrived(ctx, "revoked")
	code(t, err, graphgate.ENOTFOUND)
	linkThenUnlink(t, s, u.ID)
	_, err = s.UploadArrived(ctx, "unlinked")
	code(t, err, graphgate.ENOTFOUND)

	// An upload remembers the send it belongs to.
	if err := s.CreateUpload(ctx, &graphgate.Upload{TokenHash: "u1", UserID: u.ID, Target: "me/messages/d1", Conflict: "", ExpiresAt: later,
		AttachmentName: "big.zip", ContentType: "application/zip", SendID: "s2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConsumeUpload(ctx, "u1"); err != nil || got.SendID != "s2" {
		t.Fatalf("upload's send: %+v %v", got, err)
	}
}

func testApprovals(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	other := &graphgate.User{Email: "c@d.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	_ = s.CreateUser(ctx, other)
	tok := &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "a", Prefix: "ggt_a", Hash: "ha"}
	if err := s.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(10 * time.Minute)
	ask := func(id, key string) *graphgate.Approval {
		t.Helper()
		a, err := s.AskApproval(ctx, &graphgate.Approval{ID: id, Key: key, UserID: u.ID, TokenID: tok.ID, Label: "ggt_a…", Tool: "send_message",
			Summary: "Send this email?\nTo: sam@x.test", ExpiresAt: later})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Asking twice for the same thing gives the same approval.
	first := ask("id1", "key1")
	if again := ask("id2", "key1"); again.ID != "id1" || first.State != graphgate.ApprovalAsked || first.Summary != "Send this email?\nTo: sam@x.test" {
		t.Fatalf("asked again: %+v, first %+v", again, first)
	}
	// Nothing to take until the person decides; only they can see or decide it.
	_, err := s.TakeApproval(ctx, "key1")
	code(t, err, graphgate.ENOTFOUND)
	_, err = s.Approval(ctx, other.ID, "id1")
	code(t, err, graphgate.ENOTFOUND)
	code(t, s.DecideApproval(ctx, other.ID, "id1", true), graphgate.ENOTFOUND)
	if got, err := s.Approval(ctx, u.ID, "id1"); err != nil || got.Tool != "send_message" || got.Label != "ggt_a…" || got.TokenID != tok.ID {
		t.Fatalf("approval: %+v %v", got, err)
	}
	if list, err := s.PendingApprovals(ctx, u.ID); err != nil || len(list) != 1 || list[0].ID != "id1" || list[0].Summary == "" {
		t.Fatalf("pending: %+v %v", list, err)
	}
	if list, _ := s.PendingApprovals(ctx, other.ID); len(list) != 0 {
		t.Fatalf("another person's pending: %+v", list)
	}
	if err := s.DecideApproval(ctx, u.ID, "id1", true); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.PendingApprovals(ctx, u.ID); len(list) != 0 {
		t.Fatalf("pending after the answer: %+v", list)
	}
	// Decided once: a second answer changes nothing.
	code(t, s.DecideApproval(ctx, u.ID, "id1", false), graphgate.ENOTFOUND)
	// A yes is taken once, by one of many at the same time.
	var wg sync.WaitGroup
	var taken sync.Map
	for i := range 8 {
		wg.Go(func() {
			if a, err := s.TakeApproval(ctx, "key1"); err == nil {
				taken.Store(i, a.State)
			}
		})
	}
	wg.Wait()
	n := 0
	taken.Range(func(_, v any) bool {
		if v != graphgate.ApprovalApproved {
			t.Errorf("taken: %v", v)
		}
		n++
		return true
	})
	if n != 1 {
		t.Fatalf("a yes was taken %d times", n)
	}

	// A no is taken as a no.
	ask("id3", "key3")
	_ = s.DecideApproval(ctx, u.ID, "id3", false)
	if a, err := s.TakeApproval(ctx, "key3"); err != nil || a.State != graphgate.ApprovalDeclined {
		t.Fatalf("declined: %+v %v", a, err)
	}

	// Expired approvals are gone; revoking the token ends its approvals.
	if _, err := s.AskApproval(ctx, &graphgate.Approval{ID: "old", Key: "key-old", UserID: u.ID, Label: "l", Tool: "t", Summary: "s", ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	code(t, s.DecideApproval(ctx, u.ID, "old", true), graphgate.ENOTFOUND)
	ask("id4", "key4")
	if err := s.RevokeAPIToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Approval(ctx, u.ID, "id4")
	code(t, err, graphgate.ENOTFOUND)
}

func testCursors(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	later := Now().Add(time.Hour)
	if err := s.PutCursor(ctx, &graphgate.Cursor{ID: "c1", UserID: u.ID, Path: "me/messages?$skip=10", ExpiresAt: later}); err != nil {
		t.Fatal(err)
	}
	// Putting an id again changes nothing: the first path stays.
	if err := s.PutCursor(ctx, &graphgate.Cursor{ID: "c1", UserID: u.ID, Path: "me/drive/root/children", ExpiresAt: later}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Cursor(ctx, "c1")
	if err != nil || c.Path != "me/messages?$skip=10" || c.UserID != u.ID {
		t.Fatalf("cursor: %+v %v", c, err)
	}
	_, err = s.Cursor(ctx, "unknown")
	code(t, err, graphgate.ENOTFOUND)
	if err := s.PutCursor(ctx, &graphgate.Cursor{ID: "old", UserID: u.ID, Path: "me/events", ExpiresAt: Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Cursor(ctx, "old")
	code(t, err, graphgate.ENOTFOUND)
	// Pruning takes the expired one only; removing the person, the rest.
	if n, err := s.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if _, err := s.Cursor(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Cursor(ctx, "c1")
	code(t, err, graphgate.ENOTFOUND)
}

func testMCPClients(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err := s.MCPClient(ctx, "t:1")
	code(t, err, graphgate.ENOTFOUND)
	if err := s.RememberClient(ctx, &graphgate.MCPClient{Access: "t:1", UserID: u.ID, Apps: true}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.MCPClient(ctx, "t:1"); err != nil || !c.Apps || c.UserID != u.ID || c.SeenAt.IsZero() {
		t.Fatalf("client: %+v %v", c, err)
	}
	// The last declaration wins; another access is another client.
	if err := s.RememberClient(ctx, &graphgate.MCPClient{Access: "t:1", UserID: u.ID, Apps: false}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.MCPClient(ctx, "t:1"); err != nil || c.Apps {
		t.Fatalf("after a client without apps: %+v %v", c, err)
	}
	_, err = s.MCPClient(ctx, "g:1")
	code(t, err, graphgate.ENOTFOUND)
	// Removing the person removes what their clients said.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.MCPClient(ctx, "t:1")
	code(t, err, graphgate.ENOTFOUND)
}
