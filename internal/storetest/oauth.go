package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/secretbox"
)

func testOAuthServer(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	keys := keyring(t, secretbox.NewKey())
	s := open(keys)
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	other := &graphgate.User{Email: "c@d.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	_ = s.CreateUser(ctx, other)
	hour := time.Now().Add(time.Hour)

	// The admin's rules: defaults until set, then what was set.
	if st, err := s.OAuthSettings(ctx); err != nil || !st.Registration || len(st.ClientHosts) != 0 {
		t.Fatalf("default settings: %+v %v", st, err)
	}
	for _, want := range []*graphgate.OAuthSettings{{Registration: false, ClientHosts: []string{"claude.ai", "vscode.dev"}}, {Registration: true}} {
		if err := s.PutOAuthSettings(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OAuthSettings(ctx); err != nil || got.Registration != want.Registration || len(got.ClientHosts) != len(want.ClientHosts) {
			t.Fatalf("settings: %+v %v, want %+v", got, err, want)
		}
	}

	// Registered clients; an unused registration expires.
	c := &graphgate.OAuthClient{ID: "dcr_1", Name: "Inspector", RedirectURIs: []string{"http://127.0.0.1/cb", "https://x.test/cb"}, ExpiresAt: hour}
	if err := s.CreateOAuthClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	code(t, s.CreateOAuthClient(ctx, c), graphgate.ECONFLICT)
	got, err := s.OAuthClient(ctx, "dcr_1")
	if err != nil || got.Name != "Inspector" || len(got.RedirectURIs) != 2 {
		t.Fatalf("client: %+v %v", got, err)
	}
	_ = s.CreateOAuthClient(ctx, &graphgate.OAuthClient{ID: "dcr_old", Name: "x", RedirectURIs: []string{"https://x.test/cb"}, ExpiresAt: time.Now().Add(-time.Second)})
	_, err = s.OAuthClient(ctx, "dcr_old")
	code(t, err, graphgate.ENOTFOUND)

	// Codes work once, and not after they expire.
	ac := &graphgate.AuthCode{Hash: "code1", UserID: u.ID, ClientID: "dcr_1", ClientName: "Inspector", RedirectURI: "http://127.0.0.1/cb",
		Challenge: "ch", Resource: "https://gg.test/mcp", Scopes: []string{"mail.read", "profile"}, ConfirmWrites: true, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateAuthCode(ctx, ac); err != nil {
		t.Fatal(err)
	}
	gotCode, err := s.ConsumeAuthCode(ctx, "code1")
	if err != nil || gotCode.Challenge != "ch" || len(gotCode.Scopes) != 2 || gotCode.UserID != u.ID || !gotCode.ConfirmWrites {
		t.Fatalf("code: %+v %v", gotCode, err)
	}
	_, err = s.ConsumeAuthCode(ctx, "unknown")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreateAuthCode(ctx, &graphgate.AuthCode{Hash: "stale", UserID: u.ID, ClientID: "c", ClientName: "c", RedirectURI: "r", Challenge: "c", Resource: "r", ExpiresAt: time.Now().Add(-time.Second)})
	_, err = s.ConsumeAuthCode(ctx, "stale")
	code(t, err, graphgate.ENOTFOUND)

	// A grant with its first tokens; the registration no longer expires.
	g := &graphgate.Grant{UserID: u.ID, ClientID: "dcr_1", ClientName: "Inspector", RedirectHost: "127.0.0.1", Scopes: []string{"mail.read", "profile"}, ConfirmWrites: true,
		FromCode: "code1"}
	if err := s.CreateGrant(ctx, g, &graphgate.OAuthToken{Hash: "a1", ExpiresAt: hour}, &graphgate.OAuthToken{Hash: "r1", Refresh: true}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.OAuthClient(ctx, "dcr_1"); err != nil || !c.ExpiresAt.IsZero() {
		t.Fatalf("a used registration still expires: %+v %v", c, err)
	}
	if gg, err := s.OAuthAccessToken(ctx, "a1"); err != nil || gg.ID != g.ID || gg.Scopes[0] != "mail.read" || !gg.ConfirmWrites ||
		gg.Owner == nil || gg.Owner.ID != u.ID || gg.Owner.Email != u.Email {
		t.Fatalf("access token: %+v %v", gg, err)
	}
	_, err = s.OAuthAccessToken(ctx, "r1") // a refresh token is not an access token
	code(t, err, graphgate.ENOTFOUND)

	// Rotation: the new pair works. The old refresh token presented again
	// soon after (a retry whose answer was lost) is answered once, while
	// its successor is unused, and that successor is spent instead.
	rotate := func(from, to string) error {
		_, err := s.RotateRefreshToken(ctx, from, &graphgate.OAuthToken{Hash: "a-" + to, ExpiresAt: hour}, &graphgate.OAuthToken{Hash: to, Refresh: true})
		return err
	}
	if err := rotate("r1", "r2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthAccessToken(ctx, "a-r2"); err != nil {
		t.Fatal(err)
	}
	if err := rotate("r1", "r3"); err != nil {
		t.Fatalf("a retry within the grace: %v", err)
	}
	if _, err := s.OAuthAccessToken(ctx, "a-r3"); err != nil {
		t.Fatal(err)
	}
	// The successor the retry replaced is spent: presented now, it is a
	// reuse, and everything ends.
	code(t, rotate("r2", "r4"), graphgate.EFORBIDDEN)
	for _, h := range []string{"a1", "a-r2", "a-r3", "a-r4"} {
		_, err = s.OAuthAccessToken(ctx, h)
		code(t, err, graphgate.ENOTFOUND)
	}
	code(t, rotate("r3", "r5"), graphgate.ENOTFOUND)
	if list, _ := s.Grants(ctx, u.ID); len(list) != 0 {
		t.Fatalf("a revoked grant is listed: %+v", list)
	}

	// The grace is once, and short; after the successor was used, none.
	for _, tc := range []struct {
		name  string
		steps func() error
	}{
		{"twice", func() error {
			_ = rotate("g1", "g2")
			_ = rotate("g1", "g3")
			return rotate("g1", "g4")
		}},
		{"successor used", func() error {
			_ = rotate("g1", "g2")
			_ = rotate("g2", "g3")
			return rotate("g1", "g4")
		}},
		{"after the grace", func() error {
			_ = rotate("g1", "g2")
			defer advance(t, graphgate.RefreshGrace+time.Second)()
			return rotate("g1", "g3")
		}},
	} {
		gg := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}}
		if err := s.CreateGrant(ctx, gg, &graphgate.OAuthToken{Hash: "g1", Refresh: true}); err != nil {
			t.Fatal(err)
		}
		code(t, tc.steps(), graphgate.EFORBIDDEN)
		if _, err := s.RotateRefreshToken(ctx, "g2"); graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
			t.Fatalf("%s: the grant lives on: %v", tc.name, err)
		}
	}

	// A code redeemed again revokes the grant it made, and a grant still
	// being made from it is refused.
	_ = s.CreateAuthCode(ctx, &graphgate.AuthCode{Hash: "code2", UserID: u.ID, ClientID: "c", ClientName: "c", RedirectURI: "r", Challenge: "c", Resource: "r", ExpiresAt: hour})
	if _, err := s.ConsumeAuthCode(ctx, "code2"); err != nil {
		t.Fatal(err)
	}
	gc := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}, FromCode: "code2"}
	if err := s.CreateGrant(ctx, gc, &graphgate.OAuthToken{Hash: "ac2", ExpiresAt: hour}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeAuthCode(ctx, "code2")
	code(t, err, graphgate.ECONFLICT)
	_, err = s.OAuthAccessToken(ctx, "ac2")
	code(t, err, graphgate.ENOTFOUND)
	_ = s.CreateAuthCode(ctx, &graphgate.AuthCode{Hash: "code3", UserID: u.ID, ClientID: "c", ClientName: "c", RedirectURI: "r", Challenge: "c", Resource: "r", ExpiresAt: hour})
	_, _ = s.ConsumeAuthCode(ctx, "code3")
	_, err = s.ConsumeAuthCode(ctx, "code3")
	code(t, err, graphgate.ECONFLICT)
	code(t, s.CreateGrant(ctx, &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}, FromCode: "code3"},
		&graphgate.OAuthToken{Hash: "ac3", ExpiresAt: hour}), graphgate.ECONFLICT)
	_, err = s.OAuthAccessToken(ctx, "ac3")
	code(t, err, graphgate.ENOTFOUND)

	// Pruning: 200 refreshes leave 400 rows; once their access tokens
	// expired and the refresh tokens were rotated out a day ago, they go,
	// in batches, and the newest pair still works.
	gp := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}}
	_ = s.CreateGrant(ctx, gp, &graphgate.OAuthToken{Hash: "p0", Refresh: true})
	soon := Now().Add(time.Minute)
	for i := range 200 {
		if _, err := s.RotateRefreshToken(ctx, fmt.Sprintf("p%d", i), &graphgate.OAuthToken{Hash: fmt.Sprintf("pa%d", i+1), ExpiresAt: soon},
			&graphgate.OAuthToken{Hash: fmt.Sprintf("p%d", i+1), Refresh: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("pruned %d live rows: %v", n, err)
	}
	back := advance(t, 25*time.Hour)
	n, err := s.Prune(ctx)
	back()
	if err != nil || n < 400 {
		t.Fatalf("pruned %d rows, want at least 400: %v", n, err)
	}
	if _, err := s.RotateRefreshToken(ctx, "p200"); err != nil {
		t.Fatalf("the newest refresh token after pruning: %v", err)
	}
	if err := s.RevokeGrant(ctx, 0, gp.ID); err != nil {
		t.Fatal(err)
	}

	// Revocation (RFC 7009): an access token alone; a refresh token with its grant.
	g2 := &graphgate.Grant{UserID: u.ID, ClientID: "https://claude.test/meta.json", ClientName: "Claude", RedirectHost: "claude.test", Scopes: []string{"files.read"}}
	_ = s.CreateGrant(ctx, g2, &graphgate.OAuthToken{Hash: "b1", ExpiresAt: hour}, &graphgate.OAuthToken{Hash: "b2", ExpiresAt: hour}, &graphgate.OAuthToken{Hash: "rb", Refresh: true})
	if err := s.RevokeOAuthToken(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthAccessToken(ctx, "b2"); err != nil {
		t.Fatal("revoking one access token ended another")
	}
	if err := s.RevokeOAuthToken(ctx, "unknown"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeOAuthToken(ctx, "rb"); err != nil {
		t.Fatal(err)
	}
	_, err = s.OAuthAccessToken(ctx, "b2")
	code(t, err, graphgate.ENOTFOUND)

	// Only the owner (or an admin, userID 0) revokes a grant; revoking ends its links.
	g3 := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}}
	_ = s.CreateGrant(ctx, g3, &graphgate.OAuthToken{Hash: "c1", ExpiresAt: hour})
	_ = s.CreateDownload(ctx, &graphgate.Download{TokenHash: "dl", UserID: u.ID, GrantID: g3.ID, Source: "x", Name: "n", ContentType: "c", ExpiresAt: hour})
	code(t, s.RevokeGrant(ctx, other.ID, g3.ID), graphgate.ENOTFOUND)
	if all, _ := s.Grants(ctx, 0); len(all) != 1 || all[0].ID != g3.ID {
		t.Fatalf("all grants: %+v", all)
	}
	if err := s.RevokeGrant(ctx, 0, g3.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeDownload(ctx, "dl")
	code(t, err, graphgate.ENOTFOUND)
	code(t, s.RevokeGrant(ctx, 0, g3.ID), graphgate.ENOTFOUND)

	// Unlinking the Microsoft account ends the person's grants.
	g4 := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}}
	_ = s.CreateGrant(ctx, g4, &graphgate.OAuthToken{Hash: "d1", ExpiresAt: hour})
	_ = s.PutLink(ctx, &graphgate.Link{UserID: u.ID, TenantID: "t", ObjectID: "o", RefreshToken: "r"})
	if err := s.DeleteLink(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.OAuthAccessToken(ctx, "d1")
	code(t, err, graphgate.ENOTFOUND)

	// Two replicas spending one refresh token at once (three times): they
	// take turns. The first rotates it, the second is the one retry the
	// grace allows (the first's successor spent instead), the third is a
	// reuse and ends the grant: nothing of it works afterwards.
	g5 := &graphgate.Grant{UserID: u.ID, ClientID: "c", ClientName: "C", RedirectHost: "h", Scopes: []string{"profile"}}
	if err := s.CreateGrant(ctx, g5, &graphgate.OAuthToken{Hash: "r5", Refresh: true}); err != nil {
		t.Fatal(err)
	}
	replicas := []graphgate.Store{s, open(keys), s}
	var wg sync.WaitGroup
	results := make([]error, len(replicas))
	for i, st := range replicas {
		wg.Go(func() {
			_, results[i] = st.RotateRefreshToken(ctx, "r5", &graphgate.OAuthToken{Hash: "a5-" + string(rune('a'+i)), ExpiresAt: hour},
				&graphgate.OAuthToken{Hash: "r5-" + string(rune('a'+i)), Refresh: true})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		if err == nil {
			ok++
		} else {
			code(t, err, graphgate.EFORBIDDEN)
		}
	}
	if ok != 2 {
		t.Fatalf("one refresh token answered %d times of three at once, want 2 (a use and its one retry): %v", ok, results)
	}
	for _, h := range []string{"r5-a", "r5-b", "r5-c"} {
		_, err := s.RotateRefreshToken(ctx, h)
		code(t, err, graphgate.ENOTFOUND)
	}
}

func testSignIn(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	if st, err := s.SignInSettings(ctx); err != nil || !st.Microsoft || st.Who != graphgate.SignInExisting || !st.Passwords {
		t.Fatalf("default sign-in settings: %+v %v", st, err)
	}
	want := &graphgate.SignInSettings{Microsoft: true, Who: graphgate.SignInTenants, Tenants: []string{"t1", "t2"}, Personal: true,
		Domains: []string{"contoso.test"}, AdminEmails: []string{"a@contoso.test"}, AdminRole: "graphgate.admin", BreakGlass: []string{"root@x.test"}}
	if err := s.PutSignInSettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.SignInSettings(ctx)
	if err != nil || got.Who != want.Who || len(got.Tenants) != 2 || !got.Personal || got.Passwords || got.AdminRole != "graphgate.admin" || len(got.BreakGlass) != 1 {
		t.Fatalf("sign-in settings: %+v %v", got, err)
	}

	// A sign-in flow has no person yet; a link flow has one.
	u := &graphgate.User{Email: "a@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u)
	later := time.Now().Add(time.Minute)
	for _, f := range []*graphgate.OAuthFlow{{StateHash: "s1", Purpose: graphgate.FlowSignInLink, Verifier: "v", Nonce: "n", CreatedAt: time.Now(), ExpiresAt: later},
		{StateHash: "s2", Purpose: graphgate.FlowLink, UserID: u.ID, Verifier: "v", Nonce: "n", CreatedAt: time.Now(), ExpiresAt: later}} {
		if err := s.CreateOAuthFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if f, err := s.ConsumeOAuthFlow(ctx, "s1"); err != nil || f.UserID != 0 || f.Purpose != graphgate.FlowSignInLink {
		t.Fatalf("sign-in flow: %+v %v", f, err)
	}
	if f, err := s.ConsumeOAuthFlow(ctx, "s2"); err != nil || f.UserID != u.ID || f.Purpose != graphgate.FlowLink {
		t.Fatalf("link flow: %+v %v", f, err)
	}

	// Links are found by their Microsoft account.
	link := sampleLink(u.ID)
	if err := s.PutLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LinkByAccount(ctx, strings.ToUpper(link.TenantID), link.ObjectID); err != nil || got.UserID != u.ID {
		t.Fatalf("link by account: %+v %v", got, err)
	}
	_, err = s.LinkByAccount(ctx, link.TenantID, "another-oid")
	code(t, err, graphgate.ENOTFOUND)
	// Two people linked to one account: ambiguous, never a guess.
	u2 := &graphgate.User{Email: "c@d.test", Role: graphgate.RoleUser, PasswordHash: "h"}
	_ = s.CreateUser(ctx, u2)
	dup := sampleLink(u2.ID)
	_ = s.PutLink(ctx, dup)
	_, err = s.LinkByAccount(ctx, link.TenantID, link.ObjectID)
	code(t, err, graphgate.ECONFLICT)
}

func testLinkHealth(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	keys := keyring(t, secretbox.NewKey())
	s := open(keys)
	old, recent := time.Now().Add(-60*24*time.Hour).UTC().Truncate(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond)
	var ids []int64
	for i, refreshed := range []time.Time{old, recent, old} {
		u := &graphgate.User{Email: "p" + string(rune('a'+i)) + "@b.test", Role: graphgate.RoleUser, PasswordHash: "h"}
		_ = s.CreateUser(ctx, u)
		l := sampleLink(u.ID)
		l.ObjectID += string(rune('a' + i))
		l.LastRefreshAt, l.LastError, l.LastErrorAt = refreshed, "AADSTS50173: revoked", recent
		if i == 2 {
			l.Reason = "needs attention"
		}
		if err := s.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if err := s.TouchLink(ctx, ids[0], recent); err != nil {
		t.Fatal(err)
	}
	all, err := s.Links(ctx)
	if err != nil || len(all) != 3 || !all[0].LastGraphAt.Equal(recent) || !all[0].LastRefreshAt.Equal(old) || all[0].LastError != "AADSTS50173: revoked" {
		t.Fatalf("links: %v %+v", err, all)
	}
	// Idle: refreshed long ago and working (not the one that needs attention).
	idle, err := s.IdleLinks(ctx, time.Now().Add(-30*24*time.Hour), 10)
	if err != nil || len(idle) != 1 || idle[0] != ids[0] {
		t.Fatalf("idle links: %v %v", idle, err)
	}
	// A person asked to reconnect.
	u, _ := s.UpdateUser(ctx, ids[1], func(u *graphgate.User) error { u.ReconnectAskedAt = recent; return nil })
	if got, _ := s.UserByID(ctx, u.ID); !got.ReconnectAskedAt.Equal(recent) {
		t.Fatalf("reconnect asked: %v", got.ReconnectAskedAt)
	}

	// Leases: one holder at a time, on every replica; renewable; free again
	// once expired.
	other := open(keys)
	if ok, err := s.AcquireLease(ctx, "keepalive", "replica-a", time.Minute); !ok || err != nil {
		t.Fatalf("first lease: %v %v", ok, err)
	}
	if ok, _ := other.AcquireLease(ctx, "keepalive", "replica-b", time.Minute); ok {
		t.Fatal("a second replica took a held lease")
	}
	if ok, _ := s.AcquireLease(ctx, "keepalive", "replica-a", time.Minute); !ok {
		t.Fatal("the holder could not renew")
	}
	if ok, _ := s.AcquireLease(ctx, "keepalive", "replica-a", -time.Second); !ok {
		t.Fatal("the holder could not shorten")
	}
	if ok, _ := other.AcquireLease(ctx, "keepalive", "replica-b", time.Minute); !ok {
		t.Fatal("an expired lease was not taken over")
	}

	// Keys spent once, on every replica; forgotten after their time.
	if ok, err := s.SpendOnce(ctx, "nonce-1", time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatalf("first spend: %v %v", ok, err)
	}
	if ok, _ := other.SpendOnce(ctx, "nonce-1", time.Now().Add(time.Minute)); ok {
		t.Fatal("a key was spent twice")
	}
	_, _ = s.SpendOnce(ctx, "nonce-old", time.Now().Add(-time.Second))
	_, _ = s.SpendOnce(ctx, "nonce-2", time.Now().Add(time.Minute))
	if d, ok := s.(dumper); ok {
		var left int
		if err := d.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM leases WHERE name = 'spent:nonce-old'`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("a key past its time was kept: %d %v", left, err)
		}
	}
}
