package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"graphgate"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
	"graphgate/internal/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) func(*secretbox.Keyring) graphgate.Store {
		path := filepath.Join(t.TempDir(), "graphgate.db")
		return opener(t, path)
	})
}

// TestPostgres runs the suite on PostgreSQL when GRAPHGATE_TEST_POSTGRES_URL
// names a server (./scripts/test starts a throwaway one and sets it).
func TestPostgres(t *testing.T) {
	base := os.Getenv("GRAPHGATE_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES_URL is not set; ./scripts/test sets it")
	}
	storetest.RunTests(t, func(t *testing.T) func(*secretbox.Keyring) graphgate.Store {
		return opener(t, FreshPostgresDB(t, base))
	})
}

func opener(t *testing.T, dsn string) func(*secretbox.Keyring) graphgate.Store {
	return func(keys *secretbox.Keyring) graphgate.Store {
		s, err := sqlstore.Open(context.Background(), dsn, keys, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// FreshPostgresDB creates a database for one test and drops it afterwards.
func FreshPostgresDB(t *testing.T, base string) string {
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
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}
