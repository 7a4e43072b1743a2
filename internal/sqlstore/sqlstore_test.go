package sqlstore_test

import (
	"context"
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
		return opener(t, storetest.FreshPostgresDB(t, base))
	})
}

func opener(t *testing.T, dsn string) func(*secretbox.Keyring) graphgate.Store {
	return func(keys *secretbox.Keyring) graphgate.Store {
		s, err := sqlstore.Open(context.Background(), dsn, keys, sqlstore.Options{Now: storetest.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}
