package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"
)

func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	sqldb, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "cache.db")))
	if err != nil {
		t.Fatal(err)
	}
	d := &db{DB: sqldb, prepare: true}
	t.Cleanup(func() { d.Close() })
	if _, err := d.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}

	// The same statement from many goroutines at once: one prepared
	// statement, every answer right.
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			if _, err := d.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
				t.Error(err)
			}
			var v string
			if err := d.QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
				t.Errorf("read %d: %q, %v", i, v, err)
			}
		})
	}
	wg.Wait()
	if n := d.n.Load(); n != 3 {
		t.Fatalf("%d statements cached, want 3", n)
	}

	// Past the bound, queries still run, unprepared.
	for i := range maxCachedStatements + 10 {
		var n int
		if err := d.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) + %d FROM t`, i)).Scan(&n); err != nil || n != 32+i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if n := d.n.Load(); n != maxCachedStatements {
		t.Fatalf("%d statements cached, the bound is %d", n, maxCachedStatements)
	}

	// A statement that does not prepare fails when run, with SQLite's reason.
	if _, err := d.QueryContext(ctx, `SELECT nothing FROM nowhere`); err == nil {
		t.Fatal("a query of a missing table ran")
	}
	rows, err := d.QueryContext(ctx, `SELECT k FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var seen int
	for rows.Next() {
		seen++
	}
	if seen != 32 {
		t.Fatalf("listed %d rows", seen)
	}
}
