package secretbox

import (
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
	tampered := sealed[:len(sealed)-2] + "AA"
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
