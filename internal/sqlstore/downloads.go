package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

func (s *Store) CreateDownload(ctx context.Context, d *graphgate.Download) error {
	defer s.timed(ctx, "create_download")()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM downloads WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO downloads (token_hash, user_id, token_id, grant_id, source, name, content_type, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.TokenHash, d.UserID, d.TokenID, d.GrantID, d.Source, d.Name, d.ContentType, ms(d.ExpiresAt))
	return err
}

func (s *Store) ConsumeDownload(ctx context.Context, tokenHash string) (*graphgate.Download, error) {
	defer s.timed(ctx, "consume_download")()
	var d graphgate.Download
	var expires sql.NullInt64
	err := s.db.QueryRowContext(ctx, `DELETE FROM downloads WHERE token_hash = $1 RETURNING token_hash, user_id, COALESCE(token_id, 0), COALESCE(grant_id, 0), source, name, content_type, expires_at`, tokenHash).
		Scan(&d.TokenHash, &d.UserID, &d.TokenID, &d.GrantID, &d.Source, &d.Name, &d.ContentType, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Download link")
	}
	if err != nil {
		return nil, err
	}
	d.ExpiresAt = fromMS(expires)
	if !s.now().Before(d.ExpiresAt) {
		return nil, notFound("Download link")
	}
	return &d, nil
}

func (s *Store) CreateUpload(ctx context.Context, u *graphgate.Upload) error {
	defer s.timed(ctx, "create_upload")()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM uploads WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO uploads (token_hash, user_id, token_id, grant_id, target, conflict, expires_at, attachment_name, content_type, send_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.TokenHash, u.UserID, u.TokenID, u.GrantID, u.Target, u.Conflict, ms(u.ExpiresAt), u.AttachmentName, u.ContentType, u.SendID)
	return err
}

const uploadColumns = `token_hash, user_id, COALESCE(token_id, 0), COALESCE(grant_id, 0), target, conflict, expires_at, attachment_name, content_type, send_id`

// scanUpload reads uploadColumns; an expired link is not found.
func (s *Store) scanUpload(row *sql.Row) (*graphgate.Upload, error) {
	var u graphgate.Upload
	var expires sql.NullInt64
	err := row.Scan(&u.TokenHash, &u.UserID, &u.TokenID, &u.GrantID, &u.Target, &u.Conflict, &expires, &u.AttachmentName, &u.ContentType, &u.SendID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Upload link")
	}
	if err != nil {
		return nil, err
	}
	u.ExpiresAt = fromMS(expires)
	if !s.now().Before(u.ExpiresAt) {
		return nil, notFound("Upload link")
	}
	return &u, nil
}

func (s *Store) ConsumeUpload(ctx context.Context, tokenHash string) (*graphgate.Upload, error) {
	defer s.timed(ctx, "consume_upload")()
	return s.scanUpload(s.db.QueryRowContext(ctx, `DELETE FROM uploads WHERE token_hash = $1 RETURNING `+uploadColumns, tokenHash))
}

func (s *Store) Upload(ctx context.Context, tokenHash string) (*graphgate.Upload, error) {
	defer s.timed(ctx, "upload")()
	return s.scanUpload(s.db.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE token_hash = $1`, tokenHash))
}

func (s *Store) CreatePendingSend(ctx context.Context, p *graphgate.PendingSend) error {
	defer s.timed(ctx, "create_pending_send")()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM pending_sends WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO pending_sends (id, user_id, token_id, grant_id, label, target, remaining, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.UserID, p.TokenID, p.GrantID, p.Label, p.Target, p.Remaining, ms(p.ExpiresAt))
	return err
}

func (s *Store) UploadArrived(ctx context.Context, sendID string) (*graphgate.PendingSend, error) {
	defer s.timed(ctx, "upload_arrived")()
	p := graphgate.PendingSend{ID: sendID}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The row lock (PostgreSQL) or the write lock (SQLite) orders
		// arrivals: each sees the count the one before it left.
		var expires sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE pending_sends SET remaining = remaining - 1 WHERE id = $1 AND expires_at > $2
			RETURNING user_id, COALESCE(token_id, 0), COALESCE(grant_id, 0), label, target, remaining, expires_at`, sendID, s.now().UnixMilli()).
			Scan(&p.UserID, &p.TokenID, &p.GrantID, &p.Label, &p.Target, &p.Remaining, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Pending send")
		}
		if err != nil {
			return err
		}
		p.ExpiresAt = fromMS(expires)
		if p.Remaining > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM pending_sends WHERE id = $1`, sendID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// endLinks deletes the one-time links, the sends waiting on them and the
// approvals waiting for the person, that a condition selects ("user_id = $1" or "token_id = $1"), inside tx.
func endLinks(ctx context.Context, tx *sql.Tx, where string, arg int64) error {
	for _, table := range []string{"downloads", "uploads", "pending_sends", "approvals"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, arg); err != nil {
			return err
		}
	}
	return nil
}
