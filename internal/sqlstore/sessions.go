package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

func (s *Store) CreateSession(ctx context.Context, sess *graphgate.Session) error {
	defer s.timed(ctx, "create_session")()
	// Expired sessions are swept as new ones are made, so the table stays small.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	csrf, err := s.keys.Seal([]byte(sess.CSRF), "sessions.csrf")
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		sess.TokenHash, sess.UserID, csrf, ms(sess.CreatedAt), ms(sess.ExpiresAt))
	return err
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (*graphgate.Session, error) {
	defer s.timed(ctx, "session_by_hash")()
	var sess graphgate.Session
	var csrf string
	var created, expires sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT token_hash, user_id, csrf, created_at, expires_at FROM sessions WHERE token_hash = $1`, hash).
		Scan(&sess.TokenHash, &sess.UserID, &csrf, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Session")
	}
	if err != nil {
		return nil, err
	}
	pt, err := s.keys.Open(csrf, "sessions.csrf")
	if err != nil {
		return nil, err
	}
	sess.CSRF, sess.CreatedAt, sess.ExpiresAt = string(pt), fromMS(created), fromMS(expires)
	if !s.now().Before(sess.ExpiresAt) {
		return nil, notFound("Session")
	}
	return &sess, nil
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	defer s.timed(ctx, "delete_session")()
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return err
}

func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	defer s.timed(ctx, "delete_user_sessions")()
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}
