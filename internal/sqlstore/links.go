package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"graphgate"
)

const (
	verifierContext = "oauth_flows.verifier"
	refreshContext  = "links.refresh_token"
	accessContext   = "links.access_token"
)

func (s *Store) CreateOAuthFlow(ctx context.Context, f *graphgate.OAuthFlow) error {
	defer s.timed(ctx, "create_oauth_flow")()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth_flows WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	sealed, err := s.keys.Seal([]byte(f.Verifier), verifierContext)
	if err != nil {
		return err
	}
	purpose := f.Purpose
	if purpose == "" {
		purpose = graphgate.FlowLink
	}
	var user any
	if f.UserID != 0 {
		user = f.UserID
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oauth_flows (state_hash, purpose, user_id, verifier_enc, nonce, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		f.StateHash, purpose, user, sealed, f.Nonce, ms(f.CreatedAt), ms(f.ExpiresAt))
	return err
}

func (s *Store) ConsumeOAuthFlow(ctx context.Context, stateHash string) (*graphgate.OAuthFlow, error) {
	defer s.timed(ctx, "consume_oauth_flow")()
	var f graphgate.OAuthFlow
	var sealed string
	var created, expires, user sql.NullInt64
	// DELETE ... RETURNING is atomic: of two callbacks with one state, one wins.
	err := s.db.QueryRowContext(ctx, `DELETE FROM oauth_flows WHERE state_hash = $1 RETURNING state_hash, purpose, user_id, verifier_enc, nonce, created_at, expires_at`, stateHash).
		Scan(&f.StateHash, &f.Purpose, &user, &sealed, &f.Nonce, &created, &expires)
	f.UserID = user.Int64
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Sign-in request")
	}
	if err != nil {
		return nil, err
	}
	f.CreatedAt, f.ExpiresAt = fromMS(created), fromMS(expires)
	if !s.now().Before(f.ExpiresAt) {
		return nil, notFound("Sign-in request")
	}
	v, err := s.keys.Open(sealed, verifierContext)
	if err != nil {
		return nil, err
	}
	f.Verifier = string(v)
	return &f, nil
}

const linkColumns = `user_id, tenant_id, object_id, username, display_name, personal, refresh_token_enc, access_token_enc,
	access_expires_at, reason, linked_at, updated_at, last_graph_at, last_refresh_at, last_error, last_error_at, granted`

// scanLink reads linkColumns, then the columns more names, if any.
func (s *Store) scanLink(row interface{ Scan(...any) error }, more ...any) (*graphgate.Link, error) {
	var l graphgate.Link
	var refresh string
	var access sql.NullString
	var granted string
	var accessExp, linked, updated, graphAt, refreshAt, errorAt sql.NullInt64
	if err := row.Scan(append([]any{&l.UserID, &l.TenantID, &l.ObjectID, &l.Username, &l.DisplayName, &l.Personal, &refresh, &access,
		&accessExp, &l.Reason, &linked, &updated, &graphAt, &refreshAt, &l.LastError, &errorAt, &granted}, more...)...); err != nil {
		return nil, err
	}
	l.Granted = strings.Fields(granted)
	l.LastGraphAt, l.LastRefreshAt, l.LastErrorAt = fromMS(graphAt), fromMS(refreshAt), fromMS(errorAt)
	rt, err := s.keys.Open(refresh, refreshContext)
	if err != nil {
		return nil, err
	}
	l.RefreshToken = string(rt)
	if access.Valid && access.String != "" {
		at, err := s.keys.Open(access.String, accessContext)
		if err != nil {
			return nil, err
		}
		l.AccessToken = string(at)
	}
	l.AccessExpiresAt, l.LinkedAt, l.UpdatedAt = fromMS(accessExp), fromMS(linked), fromMS(updated)
	return &l, nil
}

func (s *Store) Link(ctx context.Context, userID int64) (*graphgate.Link, error) {
	defer s.timed(ctx, "link")()
	l, err := s.scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE user_id = $1`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Linked account")
	}
	return l, err
}

func (s *Store) LinkForCall(ctx context.Context, userID int64) (*graphgate.Link, bool, error) {
	defer s.timed(ctx, "link_for_call")()
	var enabled bool
	l, err := s.scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkColumns+`, COALESCE((SELECT enabled FROM m365_config WHERE id = 1), FALSE)
		FROM links WHERE user_id = $1`, userID), &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, notFound("Linked account")
	}
	if err != nil {
		return nil, false, err
	}
	return l, enabled, nil
}

func (s *Store) Reach(ctx context.Context, userID int64) (*graphgate.Reach, error) {
	defer s.timed(ctx, "reach")()
	var capabilities, granted string
	var personal bool
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(c.capabilities, ''), COALESCE(l.granted, ''), COALESCE(l.personal, FALSE)
		FROM (SELECT 1 AS one) AS o LEFT JOIN m365_config c ON c.id = 1 LEFT JOIN links l ON l.user_id = $1`, userID).
		Scan(&capabilities, &granted, &personal)
	if err != nil {
		return nil, err
	}
	return &graphgate.Reach{Capabilities: strings.Fields(capabilities), Granted: strings.Fields(granted), Personal: personal}, nil
}

func (s *Store) LinkByAccount(ctx context.Context, tenantID, objectID string) (*graphgate.Link, error) {
	defer s.timed(ctx, "link_by_account")()
	rows, err := s.db.QueryContext(ctx, `SELECT `+linkColumns+` FROM links WHERE tenant_id = $1 AND object_id = $2 LIMIT 2`,
		strings.ToLower(tenantID), objectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []*graphgate.Link
	for rows.Next() {
		l, err := s.scanLink(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, l)
	}
	switch {
	case rows.Err() != nil:
		return nil, rows.Err()
	case len(found) == 0:
		return nil, notFound("Linked account")
	case len(found) > 1:
		return nil, graphgate.Errorf(graphgate.ECONFLICT, "That Microsoft account is linked to more than one graphgate account.")
	}
	return found[0], nil
}

func (s *Store) Links(ctx context.Context) ([]*graphgate.Link, error) {
	defer s.timed(ctx, "links")()
	rows, err := s.db.QueryContext(ctx, `SELECT `+linkColumns+` FROM links ORDER BY user_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*graphgate.Link
	for rows.Next() {
		l, err := s.scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *Store) TouchLink(ctx context.Context, userID int64, at time.Time) error {
	defer s.timed(ctx, "touch_link")()
	_, err := s.db.ExecContext(ctx, `UPDATE links SET last_graph_at = $1 WHERE user_id = $2`, at.UnixMilli(), userID)
	return err
}

func (s *Store) IdleLinks(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	defer s.timed(ctx, "idle_links")()
	rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM links WHERE reason = '' AND COALESCE(last_refresh_at, linked_at) < $1
		ORDER BY COALESCE(last_refresh_at, linked_at) LIMIT $2`, before.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	defer s.timed(ctx, "acquire_lease")()
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < $4`, name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SpendOnce keeps spent keys in the leases table under a prefix of their
// own, so they never meet a job's lease.
func (s *Store) SpendOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	defer s.timed(ctx, "spend_once")()
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE holder = 'spent' AND expires_at < $1`, now); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ($1, 'spent', $2) ON CONFLICT (name) DO NOTHING`,
		"spent:"+key, until.UnixMilli())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// writeLink upserts a link through q (the database or a transaction).
func (s *Store) writeLink(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, l *graphgate.Link) error {
	refresh, err := s.keys.Seal([]byte(l.RefreshToken), refreshContext)
	if err != nil {
		return err
	}
	var access any
	if l.AccessToken != "" {
		if access, err = s.keys.Seal([]byte(l.AccessToken), accessContext); err != nil {
			return err
		}
	}
	l.UpdatedAt = s.now().UTC()
	if l.LinkedAt.IsZero() {
		l.LinkedAt = l.UpdatedAt
	}
	_, err = q.ExecContext(ctx, `INSERT INTO links (user_id, tenant_id, object_id, username, display_name, personal, refresh_token_enc,
		access_token_enc, access_expires_at, reason, linked_at, updated_at, last_graph_at, last_refresh_at, last_error, last_error_at, granted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (user_id) DO UPDATE SET tenant_id = excluded.tenant_id, object_id = excluded.object_id,
		username = excluded.username, display_name = excluded.display_name, personal = excluded.personal,
		refresh_token_enc = excluded.refresh_token_enc, access_token_enc = excluded.access_token_enc,
		access_expires_at = excluded.access_expires_at, reason = excluded.reason, linked_at = excluded.linked_at,
		updated_at = excluded.updated_at, last_graph_at = excluded.last_graph_at, last_refresh_at = excluded.last_refresh_at,
		last_error = excluded.last_error, last_error_at = excluded.last_error_at, granted = excluded.granted`,
		l.UserID, l.TenantID, l.ObjectID, l.Username, l.DisplayName, l.Personal, refresh, access, ms(l.AccessExpiresAt),
		l.Reason, ms(l.LinkedAt), ms(l.UpdatedAt), ms(l.LastGraphAt), ms(l.LastRefreshAt), l.LastError, ms(l.LastErrorAt),
		strings.Join(l.Granted, " "))
	return err
}

func (s *Store) PutLink(ctx context.Context, l *graphgate.Link) error {
	defer s.timed(ctx, "put_link")()
	return s.writeLink(ctx, s.db, l)
}

func (s *Store) UpdateLink(ctx context.Context, userID int64, fn func(l *graphgate.Link) (*graphgate.Link, error)) (*graphgate.Link, error) {
	defer s.timed(ctx, "update_link")()
	var out *graphgate.Link
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.scanLink(tx.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE user_id = $1`+s.d.forUpdate, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Linked account")
		}
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		next.UserID = userID
		if err := s.writeLink(ctx, tx, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteLink removes the link and every one-time link of the person: an
// agent must not reach the account through a link made before the unlink.
func (s *Store) DeleteLink(ctx context.Context, userID int64) error {
	defer s.timed(ctx, "delete_link")()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM links WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("Linked account")
		}
		// Agents reach the account through OAuth grants too: they end with it.
		rows, err := tx.QueryContext(ctx, `SELECT id FROM oauth_grants WHERE user_id = $1 AND revoked_at IS NULL`, userID)
		if err != nil {
			return err
		}
		var grants []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			grants = append(grants, id)
		}
		rows.Close()
		for _, id := range grants {
			if err := revokeGrantTx(ctx, tx, id, s.now()); err != nil {
				return err
			}
		}
		return endLinks(ctx, tx, "user_id = $1", userID)
	})
}
