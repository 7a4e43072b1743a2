package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStatements bounds the statement cache: the store's queries are
// constants or a few filter combinations, so this is never reached in
// practice; past it, queries run unprepared rather than grow the cache.
const maxCachedStatements = 256

// db is the database with a cache of prepared statements. SQLite parses
// and plans a statement each time it is run unless it is prepared, and on
// the point reads every tool call makes (the token, the person, the link)
// that was most of the store's cost. PostgreSQL's driver (pgx) keeps its
// own per-connection statement cache, so there the cache is off.
type db struct {
	*sql.DB
	prepare bool
	stmts   sync.Map // query -> *sql.Stmt
	n       atomic.Int32
}

// stmt is the prepared statement for query, or nil to run it unprepared
// (the cache is off or full, or preparing failed: running the query will
// then say why).
func (d *db) stmt(ctx context.Context, query string) *sql.Stmt {
	if !d.prepare {
		return nil
	}
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if d.n.Load() >= maxCachedStatements {
		return nil
	}
	st, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	d.n.Add(1)
	return st
}

func (d *db) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

func (d *db) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

func (d *db) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := d.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, query, args...)
}

// forTx gives tx the cached statements, for queries a transaction runs
// many times (a batch of audit events).
func (d *db) forTx(tx *sql.Tx) txStmts { return txStmts{tx, d} }

type txStmts struct {
	tx *sql.Tx
	d  *db
}

func (t txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.d.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Close closes the prepared statements, then the database.
func (d *db) Close() error {
	d.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return d.DB.Close()
}
