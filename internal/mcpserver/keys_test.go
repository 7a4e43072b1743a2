package mcpserver_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
)

// rotateKey does what graphgate rotate-key --new-key does to a data folder:
// a new key first in the key file, then everything re-encrypted under it.
func rotateKey(t *testing.T, l *apptest.Linked) {
	t.Helper()
	file := filepath.Join(l.DataDir(), "encryption.key")
	if err := secretbox.PrependKeyFile(file); err != nil {
		t.Fatal(err)
	}
	keys, _, err := secretbox.LoadOrCreateKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secretbox.New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlstore.Open(context.Background(), l.App.Config.DatabaseURL, ring, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if n, err := other.Reencrypt(context.Background()); err != nil || n == 0 {
		t.Fatalf("re-encrypting: %d values, %v", n, err)
	}
}

// A key added to the key file while graphgate runs (rotate-key --new-key on
// a live data folder) is learnt without a restart: tools keep working, and
// what graphgate seals afterwards is sealed with the new key.
func TestKeyRotationOnARunningServer(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, uid, false), "")
	if res := call(t, s, "get_profile", nil, nil); res.IsError {
		t.Fatal(errorText(res))
	}
	before := l.App.Keys.Newest()
	rotateKey(t, l)
	// The next call needs the link's tokens, now sealed with the new key,
	// and a refresh seals new ones.
	expireAccess(t, l, uid)
	if res := call(t, s, "get_profile", nil, nil); res.IsError {
		t.Fatalf("after rotate-key on a running server: %s", errorText(res))
	}
	if after := l.App.Keys.Newest(); after == before {
		t.Fatal("the running server still seals with the old key")
	}
}

// A value sealed with a key graphgate does not have is the operator's to
// fix, and the agent is told so: never that the database is down.
func TestUnknownKeyIsNotCalledADatabaseOutage(t *testing.T) {
	l := apptest.StartWithSandbox(t, map[string]string{"GRAPHGATE_ENCRYPTION_KEY": secretbox.NewKey()}, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, uid, false), "")
	// Another replica, with another key only, re-seals everything.
	foreign, _ := secretbox.ParseKeys(secretbox.NewKey())
	ring, _ := secretbox.New(foreign...)
	other, err := sqlstore.Open(context.Background(), l.App.Config.DatabaseURL, ring, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	link, err := l.App.Store.Link(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutLink(context.Background(), link); err != nil {
		t.Fatal(err)
	}
	res := call(t, s, "get_profile", nil, nil)
	if msg := errorText(res); !res.IsError || !strings.Contains(msg, "encryption key") || strings.Contains(msg, "database") {
		t.Fatalf("a foreign key: %s", msg)
	}
}
