package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

const userColumns = `id, email, name, role, password_hash, onboarded_at, created_at, reconnect_asked_at`

// userFields are the scan destinations of userColumns for u, and what
// turns them into u's fields once scanned.
func userFields(u *graphgate.User) ([]any, func()) {
	var onboarded, created, reconnect sql.NullInt64
	var role string
	return []any{&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &onboarded, &created, &reconnect}, func() {
		u.Role = graphgate.Role(role)
		u.OnboardedAt, u.CreatedAt, u.ReconnectAskedAt = fromMS(onboarded), fromMS(created), fromMS(reconnect)
	}
}

func scanUser(row interface{ Scan(...any) error }) (*graphgate.User, error) {
	var u graphgate.User
	dest, finish := userFields(&u)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &u, nil
}

// NormalizeEmail is how emails are compared and stored.

func (s *Store) CreateUser(ctx context.Context, u *graphgate.User) error {
	defer s.timed(ctx, "create_user")()
	u.Email = graphgate.NormalizeEmail(u.Email)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now().UTC()
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO users (email, name, role, password_hash, onboarded_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		u.Email, u.Name, string(u.Role), u.PasswordHash, ms(u.OnboardedAt), ms(u.CreatedAt)).Scan(&u.ID)
	if isUniqueViolation(err) {
		return graphgate.Errorf(graphgate.ECONFLICT, "A user with the email %s already exists.", u.Email)
	}
	return err
}

func (s *Store) UserByID(ctx context.Context, id int64) (*graphgate.User, error) {
	defer s.timed(ctx, "user_by_id")()
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User")
	}
	return u, err
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*graphgate.User, error) {
	defer s.timed(ctx, "user_by_email")()
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, graphgate.NormalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User")
	}
	return u, err
}

func (s *Store) ListUsers(ctx context.Context) ([]*graphgate.User, error) {
	defer s.timed(ctx, "list_users")()
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*graphgate.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	defer s.timed(ctx, "count_users")()
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

func (s *Store) UpdateUser(ctx context.Context, id int64, fn func(u *graphgate.User) error) (*graphgate.User, error) {
	defer s.timed(ctx, "update_user")()
	var out *graphgate.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("User")
		}
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		u.Email = graphgate.NormalizeEmail(u.Email)
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = $1, name = $2, role = $3, password_hash = $4, onboarded_at = $5, reconnect_asked_at = $6 WHERE id = $7`,
			u.Email, u.Name, string(u.Role), u.PasswordHash, ms(u.OnboardedAt), ms(u.ReconnectAskedAt), id)
		if isUniqueViolation(err) {
			return graphgate.Errorf(graphgate.ECONFLICT, "A user with the email %s already exists.", u.Email)
		}
		out = u
		return err
	})
	return out, err
}

func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	defer s.timed(ctx, "delete_user")()
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("User")
	}
	return nil
}
