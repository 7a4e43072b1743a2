package password

import (
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := Verify(h, "wrong horse"); ok {
		t.Fatal("wrong password verified")
	}
	h2, _ := Hash("correct horse")
	if h2 == h {
		t.Fatal("no salt")
	}
	if _, err := Verify("plain", "x"); err == nil {
		t.Fatal("garbage hash accepted")
	}
	if Check("short") == "" || Check("long enough") != "" {
		t.Fatal("Check")
	}
}
