package secretbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenAndRotate(t *testing.T) {
	oldKeys, _ := ParseKeys(NewKey())
	old, err := New(oldKeys...)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal([]byte("s3cret"), "m365.client_secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "s3cret") || SealedWith(sealed) != old.Newest() {
		t.Fatalf("sealed = %q", sealed)
	}
	if _, err := old.Open(sealed, "links.refresh_token"); err == nil {
		t.Fatal("opened under another context")
	}
	newKeys, _ := ParseKeys(NewKey())
	both, _ := New(newKeys[0], oldKeys[0])
	pt, err := both.Open(sealed, "m365.client_secret")
	if err != nil || string(pt) != "s3cret" {
		t.Fatalf("old value under the new keyring: %q %v", pt, err)
	}
	resealed, _ := both.Seal(pt, "m365.client_secret")
	if SealedWith(resealed) != KeyID(newKeys[0]) {
		t.Fatal("new values are not sealed with the newest key")
	}
	onlyNew, _ := New(newKeys[0])
	if _, err := onlyNew.Open(sealed, "m365.client_secret"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("missing key: %v", err)
	}
	tampered := changeChar(sealed)
	if _, err := old.Open(tampered, "m365.client_secret"); err == nil {
		t.Fatal("tampered value opened")
	}
}

func TestParseKeysRejectsBadKeys(t *testing.T) {
	for _, s := range []string{"", "not base64!", "c2hvcnQ=", NewKey() + ",short"} {
		if _, err := ParseKeys(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "encryption.key")
	keys, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created || len(keys) != 1 {
		t.Fatalf("create: %v %v %d", err, created, len(keys))
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	again, created, _ := LoadOrCreateKeyFile(path)
	if created || string(again[0]) != string(keys[0]) {
		t.Fatal("second load made a new key")
	}
	if err := PrependKeyFile(path); err != nil {
		t.Fatal(err)
	}
	rotated, _, _ := LoadOrCreateKeyFile(path)
	if len(rotated) != 2 || string(rotated[1]) != string(keys[0]) {
		t.Fatal("prepend did not keep the old key second")
	}
}

func TestMACAcrossReplicasAndRotation(t *testing.T) {
	oldKeys, _ := ParseKeys(NewKey())
	newKeys, _ := ParseKeys(NewKey())
	replicaA, _ := New(oldKeys...)
	replicaB, _ := New(oldKeys...)
	mac := replicaA.MAC("cursor", []byte("list_messages|7|me/messages?$skip=10"))
	if !replicaB.VerifyMAC("cursor", []byte("list_messages|7|me/messages?$skip=10"), mac) {
		t.Fatal("a replica with the same key refused the MAC")
	}
	for _, tc := range []struct {
		name, purpose, msg string
	}{
		{"other message", "cursor", "list_events|7|me/messages?$skip=10"},
		{"other purpose", "download", "list_messages|7|me/messages?$skip=10"},
	} {
		if replicaB.VerifyMAC(tc.purpose, []byte(tc.msg), mac) {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	rotated, _ := New(newKeys[0], oldKeys[0])
	if !rotated.VerifyMAC("cursor", []byte("list_messages|7|me/messages?$skip=10"), mac) {
		t.Fatal("a MAC made before the rotation is refused while the old key is kept")
	}
	onlyNew, _ := New(newKeys...)
	if onlyNew.VerifyMAC("cursor", []byte("list_messages|7|me/messages?$skip=10"), mac) {
		t.Fatal("a MAC under a removed key is accepted")
	}
}

func TestMACPrefixes(t *testing.T) {
	keys, _ := ParseKeys(NewKey())
	k, _ := New(keys...)
	mac := k.MAC("p", []byte("m"))
	for _, n := range []int{0, 1, MinMAC - 1} {
		if k.VerifyMAC("p", []byte("m"), mac[:n]) {
			t.Errorf("a %d-byte prefix is accepted", n)
		}
	}
	if !k.VerifyMAC("p", []byte("m"), mac[:MinMAC]) || !k.VerifyMAC("p", []byte("m"), mac) {
		t.Error("a valid MAC or prefix is refused")
	}
}

// changeChar changes one character near the end of s, never to itself.
func changeChar(s string) string {
	i := len(s) - 4
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// A keyring that follows its key file learns a key added to it by another
// process: it opens values sealed with it, then seals with it too.
func TestFollowTheKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "encryption.key")
	keys, _, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	running, _ := New(keys...)
	running.Follow(path)
	old := running.Newest()
	if err := PrependKeyFile(path); err != nil {
		t.Fatal(err)
	}
	newKeys, _, _ := LoadOrCreateKeyFile(path)
	rotated, _ := New(newKeys...)
	sealed, _ := rotated.Seal([]byte("refresh token"), "links.refresh")
	got, err := running.Open(sealed, "links.refresh")
	if err != nil || string(got) != "refresh token" {
		t.Fatalf("opening a value sealed with the added key: %q %v", got, err)
	}
	if running.Newest() == old || running.Newest() != rotated.Newest() {
		t.Fatal("the running keyring does not seal with the added key")
	}
	// Without a file to follow, an unknown key is ErrUnknownKey.
	alone, _ := New(keys...)
	if _, err := alone.Open(sealed, "links.refresh"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("an unknown key: %v", err)
	}
}
