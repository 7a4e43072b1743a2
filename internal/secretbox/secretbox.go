// Package secretbox encrypts values at rest with AES-256-GCM. Every
// ciphertext names the key that sealed it, so a new key can be added while
// old rows stay readable, and everything can be re-sealed under the newest.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// prefix marks a sealed value and its format version.
const prefix = "gg1:"

// Keyring seals with its newest key and opens with any of its keys.
type Keyring struct {
	set atomic.Pointer[keyset]

	// file, when set, is the key file the keys came from: a running
	// graphgate learns keys added to it (graphgate rotate-key --new-key)
	// without a restart.
	file    string
	mu      sync.Mutex // serialises reloads
	checked time.Time  // when the file was last read
	content string     // what it held then
}

// keyset is the keys at one moment; replaced whole, never changed.
type keyset struct {
	newest string
	aeads  map[string]cipher.AEAD
	// macKeys are derived from each key for MAC, never the AES keys themselves.
	macKeys map[string][]byte
}

// ErrUnknownKey is a value sealed with a key this keyring does not have.
var ErrUnknownKey = errors.New("secretbox: sealed with a key that is not configured")

// KeyID is the public name of a key: the start of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// New returns a keyring; keys[0] is the newest and seals, the others only open.
func New(keys ...[]byte) (*Keyring, error) {
	set, err := newKeyset(keys)
	if err != nil {
		return nil, err
	}
	k := &Keyring{}
	k.set.Store(set)
	return k, nil
}

// Follow makes the keyring learn the keys of path (a key file) as they
// change: when it meets a value sealed with a key it lacks, and every
// reloadEvery when it seals. The file's first key then seals.
func (k *Keyring) Follow(path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.file = path
	if b, err := os.ReadFile(path); err == nil {
		k.content = string(b)
	}
}

// reloadEvery bounds how often sealing looks at the key file; a value with
// an unknown key (which comes only from the database) makes it look at once.
const reloadEvery = 10 * time.Second

// reload reads the key file again when it changed; it reports whether the
// keys changed.
func (k *Keyring) reload(urgent bool) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.file == "" {
		return false
	}
	now := time.Now()
	if !urgent && now.Sub(k.checked) < reloadEvery {
		return false
	}
	k.checked = now
	// Read, not stat: modification times are too coarse to tell two
	// writes a few milliseconds apart, and the file is tiny.
	b, err := os.ReadFile(k.file)
	if err != nil || string(b) == k.content {
		return false
	}
	keys, err := ParseKeys(string(b))
	if err != nil {
		return false // a file caught mid-write: keep what works
	}
	set, err := newKeyset(keys)
	if err != nil {
		return false
	}
	k.content = string(b)
	k.set.Store(set)
	return true
}

func newKeyset(keys [][]byte) (*keyset, error) {
	if len(keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	k := &keyset{aeads: map[string]cipher.AEAD{}, macKeys: map[string][]byte{}}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want %d", i+1, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.newest = id
		}
		k.aeads[id] = aead
		if k.macKeys[id], err = hkdf.Key(sha256.New, key, nil, "graphgate mac v1", 32); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// ParseKeys reads comma- or newline-separated base64 keys, newest first.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
		key, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			if key, err = base64.RawURLEncoding.DecodeString(f); err != nil {
				return nil, fmt.Errorf("a key is not base64")
			}
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("a key is %d bytes, want %d (32 random bytes, base64)", len(key), KeySize)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key given")
	}
	return keys, nil
}

// NewKey returns a random key, base64.
func NewKey() string {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Newest is the id of the key that seals.
func (k *Keyring) Newest() string { return k.set.Load().newest }

// Seal encrypts plaintext. context binds the ciphertext to where it is kept
// (a table and column, say), so it cannot be moved to another field.
func (k *Keyring) Seal(plaintext []byte, context string) (string, error) {
	// A key added to the file since seals from now on, here as on the
	// replica that added it.
	k.reload(false)
	set := k.set.Load()
	aead := set.aeads[set.newest]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, plaintext, []byte(context))
	return prefix + set.newest + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts a value sealed by Seal with the same context.
func (k *Keyring) Open(sealed, context string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	kid, body, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return nil, errors.New("secretbox: not a sealed value")
	}
	aead, ok := k.set.Load().aeads[kid]
	if !ok && k.reload(true) {
		aead, ok = k.set.Load().aeads[kid]
	}
	if !ok {
		return nil, fmt.Errorf("%w (key %s): give every replica the same keys", ErrUnknownKey, kid)
	}
	ct, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(ct) < aead.NonceSize() {
		return nil, errors.New("secretbox: malformed value")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(context))
	if err != nil {
		return nil, errors.New("secretbox: value does not decrypt (wrong key or tampered)")
	}
	return pt, nil
}

// MAC authenticates msg for one purpose under the newest key. Every replica
// sharing the keyring computes the same value, so a value one replica signs
// (a cursor, say) is accepted by all of them.
func (k *Keyring) MAC(purpose string, msg []byte) []byte {
	set := k.set.Load()
	return k.mac(set.macKeys[set.newest], purpose, msg)
}

// MinMAC is the shortest MAC VerifyMAC accepts: callers may keep a prefix
// of MAC's 32 bytes, no less than 16.
const MinMAC = 16

// VerifyMAC reports whether mac is MAC(purpose, msg), or a prefix of it at
// least MinMAC long, under any of the keys, so values signed before a key
// rotation stay valid while the old key is kept.
func (k *Keyring) VerifyMAC(purpose string, msg, mac []byte) bool {
	if len(mac) < MinMAC || len(mac) > sha256.Size {
		return false
	}
	verify := func() bool {
		ok := false
		for _, key := range k.set.Load().macKeys {
			if hmac.Equal(k.mac(key, purpose, msg)[:len(mac)], mac) {
				ok = true
			}
		}
		return ok
	}
	// Signed by a replica that already has a key added to the file?
	return verify() || k.reload(false) && verify()
}

func (k *Keyring) mac(key []byte, purpose string, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(msg)
	return h.Sum(nil)
}

// SealedWith returns the id of the key that sealed a value.
func SealedWith(sealed string) string {
	rest, _ := strings.CutPrefix(sealed, prefix)
	kid, _, _ := strings.Cut(rest, ":")
	return kid
}

// LoadOrCreateKeyFile reads keys from path (one per line, newest first),
// creating the file with a new key, mode 0600, when it does not exist.
// created reports whether it made the file.
func LoadOrCreateKeyFile(path string) (keys [][]byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, err
		}
		key := NewKey()
		if _, err := f.WriteString(key + "\n"); err != nil {
			f.Close()
			return nil, false, err
		}
		if err := f.Close(); err != nil {
			return nil, false, err
		}
		keys, err := ParseKeys(key)
		return keys, true, err
	}
	if err != nil {
		return nil, false, err
	}
	keys, err = ParseKeys(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return keys, false, nil
}

// PrependKeyFile adds a new newest key to a key file and returns it.
func PrependKeyFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(NewKey()+"\n"+string(b)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
