package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

const cursorContext = "cursors.path"

func (s *Store) PutCursor(ctx context.Context, c *graphgate.Cursor) error {
	defer s.timed(ctx, "put_cursor")()
	sealed, err := s.keys.Seal([]byte(c.Path), cursorContext)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO cursors (id, user_id, path_enc, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.UserID, sealed, ms(c.ExpiresAt))
	return err
}

func (s *Store) Cursor(ctx context.Context, id string) (*graphgate.Cursor, error) {
	defer s.timed(ctx, "cursor")()
	c := graphgate.Cursor{ID: id}
	var sealed string
	var expires sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, path_enc, expires_at FROM cursors WHERE id = $1`, id).Scan(&c.UserID, &sealed, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Cursor")
	}
	if err != nil {
		return nil, err
	}
	if c.ExpiresAt = fromMS(expires); !s.now().Before(c.ExpiresAt) {
		return nil, notFound("Cursor")
	}
	path, err := s.keys.Open(sealed, cursorContext)
	if err != nil {
		return nil, err
	}
	c.Path = string(path)
	return &c, nil
}
