// Package sqlstore implements graphgate.Store on SQLite (one process, the
// default) and PostgreSQL (several replicas), with the same SQL where the two
// agree and a small dialect where they do not. Secrets are sealed with a
// secretbox.Keyring before they reach the database.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"graphgate"
	"graphgate/internal/secretbox"
)

//go:embed migrations
var migrations embed.FS

// maxIdleConns is how many database connections stay open between
// requests.
const maxIdleConns = 16

// dialect holds what differs between the two databases.
type dialect struct {
	name string
	// system names the database in traces (OpenTelemetry's db.system.name).
	system string
	// lockConfig serialises writers of the single-row tables inside a
	// transaction (SQLite's immediate transactions already do).
	lockConfig string
	forUpdate  string
}

var (
	sqliteDialect   = dialect{name: "sqlite", system: "sqlite"}
	postgresDialect = dialect{name: "postgres", system: "postgresql", lockConfig: "SELECT pg_advisory_xact_lock(7245001)", forUpdate: " FOR UPDATE"}
)

// Store is a graphgate.Store on a SQL database.
type Store struct {
	db      *db
	d       dialect
	keys    *secretbox.Keyring
	now     func() time.Time
	observe func(op string, d time.Duration)
	tracer  trace.Tracer
}

var _ graphgate.Store = (*Store)(nil)

// Options configure a Store.
type Options struct {
	// Observe, when set, is told how long each store operation took.
	Observe func(op string, d time.Duration)
	Now     func() time.Time
	// Tracer, when set, makes a span of each operation.
	Tracer trace.Tracer
}

// Open connects to the database named by dsn (postgres://... for
// PostgreSQL, otherwise a SQLite file path), applies pending migrations and
// returns the store.
func Open(ctx context.Context, dsn string, keys *secretbox.Keyring, opts Options) (*Store, error) {
	if keys == nil {
		return nil, errors.New("sqlstore: a keyring is required to seal secrets")
	}
	s := &Store{keys: keys, now: opts.Now, observe: opts.Observe, tracer: opts.Tracer}
	if s.tracer == nil {
		s.tracer = noop.NewTracerProvider().Tracer("")
	}
	if s.now == nil {
		s.now = time.Now
	}
	var (
		sqldb *sql.DB
		err   error
	)
	if IsPostgres(dsn) {
		s.d = postgresDialect
		sqldb, err = sql.Open("pgx", dsn)
	} else {
		s.d = sqliteDialect
		if err := ownerOnly(sqlitePath(dsn)); err != nil {
			return nil, err
		}
		sqldb, err = sql.Open("sqlite", sqliteDSN(dsn))
	}
	if err != nil {
		return nil, err
	}
	// Keep enough connections open for the requests in flight: with Go's
	// default of two idle ones, a busy replica opens and closes connections
	// all the time, and each new one repeats the pragmas (SQLite) or the
	// handshake (PostgreSQL) and prepares its statements again.
	sqldb.SetMaxIdleConns(maxIdleConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	s.db = &db{DB: sqldb, prepare: s.d.name == "sqlite"}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to the %s database: %w", s.d.name, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// ownerOnly creates the SQLite database file readable by its owner only,
// and narrows an existing one and its -wal and -shm files: they hold
// sealed secrets, hashes and people's names. SQLite creates the -wal and
// -shm files with the database file's mode.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: creating the database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlstore: %w", err)
		}
	}
	return nil
}

func sqlitePath(dsn string) string {
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
}

// sqliteDSN turns a path into a modernc.org/sqlite DSN with WAL, a busy
// timeout so that writers wait for each other, foreign keys, and immediate
// transactions so that a read-modify-write holds the write lock from its start.
func sqliteDSN(path string) string {
	path = sqlitePath(path)
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// DB exposes the database to tests that inspect what is stored.
func (s *Store) DB() *sql.DB { return s.db.DB }

func (s *Store) migrate(ctx context.Context) error {
	dir := "migrations/" + s.d.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d.name == "postgres" {
		// Replicas starting together migrate one at a time.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7245000)"); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: creating schema_migrations: %w", err)
	}
	for _, e := range entries {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, e.Name()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return err
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlstore: migration %s: %w", e.Name(), err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, e.Name(), s.now().UnixMilli()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Ready reports whether the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	defer s.timed(ctx, "ready")()
	entries, err := fs.ReadDir(migrations, "migrations/"+s.d.name)
	if err != nil {
		return err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("database not reachable: %w", err)
	}
	if n < len(entries) {
		return fmt.Errorf("%d of %d migrations applied", n, len(entries))
	}
	return nil
}

// timed reports an operation's duration to the observer.
func (s *Store) timed(ctx context.Context, op string) func() {
	_, span := s.tracer.Start(ctx, "store "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.operation.name", op), attribute.String("db.system.name", s.d.system)))
	start := time.Now()
	return func() {
		if s.observe != nil {
			s.observe(op, time.Since(start))
		}
		span.End()
	}
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Time columns hold Unix milliseconds; NULL for the zero time.

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func notFound(what string) error { return graphgate.Errorf(graphgate.ENOTFOUND, "%s not found.", what) }

// isUniqueViolation recognises both databases' unique-constraint errors.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}
