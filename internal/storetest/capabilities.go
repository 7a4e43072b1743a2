package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/secretbox"
)

// testCapabilities: the capabilities on and the admin consent travel with
// the integration; what a link was granted travels with the link; Reach
// reads both in one go, and is empty where there is nothing.
func testCapabilities(t *testing.T, open func(*secretbox.Keyring) graphgate.Store) {
	ctx := context.Background()
	s := open(keyring(t, secretbox.NewKey()))
	u := &graphgate.User{Email: "alex@contoso.test", Name: "Alex", Role: graphgate.RoleUser, PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Reach(ctx, u.ID); err != nil || len(r.Capabilities) != 0 || len(r.Granted) != 0 || r.Personal {
		t.Fatalf("reach with nothing configured: %+v %v", r, err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	if _, err := s.UpdateM365Config(ctx, func(*graphgate.M365Config) (*graphgate.M365Config, error) {
		c := sampleConfig()
		c.Capabilities = []string{"calendar.write", "people"}
		c.AdminConsent = &graphgate.AdminConsent{Granted: true, Tenant: "2f6b3c1e-8a4d-4f0b-9c7e-5d1a2b3c4d5e", By: "admin@contoso.test", At: at}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.M365Config(ctx)
	if err != nil || !slices.Equal(cfg.Capabilities, []string{"calendar.write", "people"}) || cfg.AdminConsent == nil ||
		!cfg.AdminConsent.Granted || !cfg.AdminConsent.At.Equal(at) || cfg.AdminConsent.By != "admin@contoso.test" {
		t.Fatalf("read back %+v %v", cfg, err)
	}
	if r, err := s.Reach(ctx, u.ID); err != nil || !slices.Equal(r.Capabilities, cfg.Capabilities) || len(r.Granted) != 0 {
		t.Fatalf("reach before linking: %+v %v", r, err)
	}
	l := sampleLink(u.ID)
	l.Personal = true
	l.Granted = []string{"User.Read", "Mail.Read", "Calendars.ReadWrite"}
	if err := s.PutLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	r, err := s.Reach(ctx, u.ID)
	if err != nil || !slices.Equal(r.Granted, l.Granted) || !r.Personal || !r.Opens("create_event") || r.Opens("find_people") {
		t.Fatalf("reach: %+v %v", r, err)
	}
	// A refresh that names other permissions replaces them.
	if _, err := s.UpdateLink(ctx, u.ID, func(l *graphgate.Link) (*graphgate.Link, error) {
		l.Granted = []string{"User.Read", "People.Read"}
		return l, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Link(ctx, u.ID); err != nil || !slices.Equal(got.Granted, []string{"User.Read", "People.Read"}) {
		t.Fatalf("after the update: %+v %v", got, err)
	}
	if r, _ := s.Reach(ctx, u.ID); r.Opens("create_event") || !r.Opens("find_people") || !r.Opens("list_messages") {
		t.Fatalf("reach after the update: %+v", r)
	}
	// Turned off: nothing of it opens, whatever the link holds.
	if _, err := s.UpdateM365Config(ctx, func(c *graphgate.M365Config) (*graphgate.M365Config, error) {
		c.Capabilities = nil
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Reach(ctx, u.ID); r.Opens("find_people") || len(r.Capabilities) != 0 {
		t.Fatalf("reach with every capability off: %+v", r)
	}
}
