package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"graphgate"
)

func (s *Store) SignInSettings(ctx context.Context) (*graphgate.SignInSettings, error) {
	defer s.timed(ctx, "signin_settings")()
	var raw string
	var updated sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT value, updated_at FROM signin_settings WHERE id = 1`).Scan(&raw, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return graphgate.DefaultSignInSettings(), nil
	}
	if err != nil {
		return nil, err
	}
	st := graphgate.DefaultSignInSettings()
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return nil, err
	}
	st.UpdatedAt = fromMS(updated)
	return st, nil
}

func (s *Store) PutSignInSettings(ctx context.Context, st *graphgate.SignInSettings) error {
	defer s.timed(ctx, "put_signin_settings")()
	st.UpdatedAt = s.now().UTC()
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO signin_settings (id, value, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, string(raw), ms(st.UpdatedAt))
	return err
}

func (s *Store) OAuthSettings(ctx context.Context) (*graphgate.OAuthSettings, error) {
	defer s.timed(ctx, "oauth_settings")()
	var st graphgate.OAuthSettings
	var hosts string
	var updated sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT registration, client_hosts, updated_at FROM oauth_settings WHERE id = 1`).Scan(&st.Registration, &hosts, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return graphgate.DefaultOAuthSettings(), nil
	}
	if err != nil {
		return nil, err
	}
	st.ClientHosts, st.UpdatedAt = strings.Fields(hosts), fromMS(updated)
	return &st, nil
}

func (s *Store) PutOAuthSettings(ctx context.Context, st *graphgate.OAuthSettings) error {
	defer s.timed(ctx, "put_oauth_settings")()
	st.UpdatedAt = s.now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_settings (id, registration, client_hosts, updated_at) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, client_hosts = excluded.client_hosts, updated_at = excluded.updated_at`,
		st.Registration, strings.Join(st.ClientHosts, " "), ms(st.UpdatedAt))
	return err
}

func (s *Store) CreateOAuthClient(ctx context.Context, c *graphgate.OAuthClient) error {
	defer s.timed(ctx, "create_oauth_client")()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now().UTC()
	}
	// Registrations never used expire: drop them as new ones come.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth_clients WHERE expires_at < $1`, s.now().UnixMilli()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_clients (client_id, name, logo_uri, client_uri, redirect_uris, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, c.Name, c.LogoURI, c.ClientURI, strings.Join(c.RedirectURIs, "\n"), ms(c.CreatedAt), ms(c.ExpiresAt))
	if isUniqueViolation(err) {
		return graphgate.Errorf(graphgate.ECONFLICT, "That client is already registered.")
	}
	return err
}

func (s *Store) OAuthClient(ctx context.Context, id string) (*graphgate.OAuthClient, error) {
	defer s.timed(ctx, "oauth_client")()
	var c graphgate.OAuthClient
	var uris string
	var created, expires sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT client_id, name, logo_uri, client_uri, redirect_uris, created_at, expires_at FROM oauth_clients WHERE client_id = $1`, id).
		Scan(&c.ID, &c.Name, &c.LogoURI, &c.ClientURI, &uris, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Client")
	}
	if err != nil {
		return nil, err
	}
	c.RedirectURIs = strings.Split(uris, "\n")
	c.CreatedAt, c.ExpiresAt = fromMS(created), fromMS(expires)
	if !c.ExpiresAt.IsZero() && !s.now().Before(c.ExpiresAt) {
		return nil, notFound("Client")
	}
	return &c, nil
}

func (s *Store) CreateAuthCode(ctx context.Context, c *graphgate.AuthCode) error {
	defer s.timed(ctx, "create_auth_code")()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_codes (hash, user_id, client_id, client_name, redirect_uri, challenge, resource, scopes, grant_expires_at, expires_at, confirm_writes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, c.Hash, c.UserID, c.ClientID, c.ClientName, c.RedirectURI, c.Challenge, c.Resource,
		strings.Join(c.Scopes, " "), ms(c.GrantExpiresAt), ms(c.ExpiresAt), c.ConfirmWrites)
	return err
}

func (s *Store) ConsumeAuthCode(ctx context.Context, hash string) (*graphgate.AuthCode, error) {
	defer s.timed(ctx, "consume_auth_code")()
	var c graphgate.AuthCode
	var scopes string
	var grantExpires, expires sql.NullInt64
	now := s.now()
	err := s.db.QueryRowContext(ctx, `UPDATE oauth_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL
		RETURNING hash, user_id, client_id, client_name, redirect_uri, challenge, resource, scopes, grant_expires_at, expires_at, confirm_writes`, now.UnixMilli(), hash).
		Scan(&c.Hash, &c.UserID, &c.ClientID, &c.ClientName, &c.RedirectURI, &c.Challenge, &c.Resource, &scopes, &grantExpires, &expires, &c.ConfirmWrites)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.codeReused(ctx, hash)
	}
	if err != nil {
		return nil, err
	}
	c.Scopes = strings.Fields(scopes)
	c.GrantExpiresAt, c.ExpiresAt = fromMS(grantExpires), fromMS(expires)
	if !now.Before(c.ExpiresAt) {
		return nil, notFound("Authorization code")
	}
	return &c, nil
}

// codeReused handles a code that could not be spent: unknown (ENOTFOUND),
// or used before, whose grant is then revoked (ECONFLICT). The code is
// marked, so that a grant its first redemption is still making fails.
func (s *Store) codeReused(ctx context.Context, hash string) error {
	var grantID sql.NullInt64
	reused := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE oauth_codes SET reused = TRUE WHERE hash = $1 AND used_at IS NOT NULL RETURNING grant_id`, hash).Scan(&grantID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		reused = true
		if grantID.Valid {
			return revokeGrantTx(ctx, tx, grantID.Int64, s.now())
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case reused:
		return graphgate.Errorf(graphgate.ECONFLICT, "This authorization code was already used; what it gave is revoked.")
	}
	return notFound("Authorization code")
}

func insertOAuthTokens(ctx context.Context, tx *sql.Tx, grantID int64, now time.Time, tokens []*graphgate.OAuthToken) error {
	for _, t := range tokens {
		t.GrantID = grantID
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now.UTC()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_tokens (hash, grant_id, refresh, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			t.Hash, grantID, t.Refresh, ms(t.CreatedAt), ms(t.ExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CreateGrant(ctx context.Context, g *graphgate.Grant, tokens ...*graphgate.OAuthToken) error {
	defer s.timed(ctx, "create_grant")()
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now().UTC()
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO oauth_grants (user_id, client_id, client_name, redirect_host, scopes, created_at, last_used_at, expires_at, confirm_writes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, g.UserID, g.ClientID, g.ClientName, g.RedirectHost, strings.Join(g.Scopes, " "),
			ms(g.CreatedAt), ms(g.CreatedAt), ms(g.ExpiresAt), g.ConfirmWrites).Scan(&g.ID); err != nil {
			return err
		}
		g.LastUsedAt = g.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_clients SET expires_at = NULL WHERE client_id = $1`, g.ClientID); err != nil {
			return err
		}
		if g.FromCode != "" {
			var reused bool
			if err := tx.QueryRowContext(ctx, `UPDATE oauth_codes SET grant_id = $1 WHERE hash = $2 RETURNING reused`, g.ID, g.FromCode).Scan(&reused); err != nil {
				return err
			}
			if reused {
				return graphgate.Errorf(graphgate.ECONFLICT, "This authorization code was used twice; no grant is made.")
			}
		}
		return insertOAuthTokens(ctx, tx, g.ID, s.now(), tokens)
	})
}

const grantColumns = `id, user_id, client_id, client_name, redirect_host, scopes, created_at, last_used_at, expires_at, revoked_at, confirm_writes`

func scanGrant(row interface{ Scan(...any) error }) (*graphgate.Grant, error) {
	var g graphgate.Grant
	var scopes string
	var created, used, expires, revoked sql.NullInt64
	if err := row.Scan(&g.ID, &g.UserID, &g.ClientID, &g.ClientName, &g.RedirectHost, &scopes, &created, &used, &expires, &revoked, &g.ConfirmWrites); err != nil {
		return nil, err
	}
	g.Scopes = strings.Fields(scopes)
	g.CreatedAt, g.LastUsedAt, g.ExpiresAt, g.RevokedAt = fromMS(created), fromMS(used), fromMS(expires), fromMS(revoked)
	return &g, nil
}

func (s *Store) RotateRefreshToken(ctx context.Context, hash string, next ...*graphgate.OAuthToken) (*graphgate.Grant, error) {
	defer s.timed(ctx, "rotate_refresh_token")()
	var g *graphgate.Grant
	reused := false
	successorOf := func(tokens []*graphgate.OAuthToken) sql.NullString {
		for _, t := range tokens {
			if t.Refresh {
				return sql.NullString{String: t.Hash, Valid: true}
			}
		}
		return sql.NullString{}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var grantID int64
		var used, expires sql.NullInt64
		var successor sql.NullString
		var graceUsed bool
		err := tx.QueryRowContext(ctx, `SELECT grant_id, used_at, expires_at, successor, grace_used FROM oauth_tokens WHERE hash = $1 AND refresh`+s.d.forUpdate, hash).
			Scan(&grantID, &used, &expires, &successor, &graceUsed)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Refresh token")
		}
		if err != nil {
			return err
		}
		if g, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE id = $1`+s.d.forUpdate, grantID)); err != nil {
			return err
		}
		now := s.now()
		if !g.Live(now) || expires.Valid && !now.Before(fromMS(expires)) {
			return notFound("Refresh token")
		}
		if used.Valid {
			// Used before. A retry soon after, whose answer was lost, is
			// answered once if the successor it never received is unused:
			// that successor is spent instead (and can earn no grace of
			// its own). Anything else is reuse: someone holds a copy, and
			// the grant ends for everyone.
			if graceUsed || !successor.Valid || now.Sub(fromMS(used)) > graphgate.RefreshGrace {
				reused = true
				return revokeGrantTx(ctx, tx, grantID, now)
			}
			res, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET used_at = $1, grace_used = TRUE WHERE hash = $2 AND used_at IS NULL`, now.UnixMilli(), successor.String)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				reused = true
				return revokeGrantTx(ctx, tx, grantID, now)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET grace_used = TRUE, successor = $1 WHERE hash = $2`, successorOf(next), hash); err != nil {
				return err
			}
			return insertOAuthTokens(ctx, tx, grantID, now, next)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET used_at = $1, successor = $2 WHERE hash = $3`, now.UnixMilli(), successorOf(next), hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2`, now.UnixMilli(), grantID); err != nil {
			return err
		}
		return insertOAuthTokens(ctx, tx, grantID, now, next)
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, graphgate.Errorf(graphgate.EFORBIDDEN, "This refresh token was already used; the grant is revoked.")
	}
	return g, nil
}

// pruneBatch bounds each statement of PruneOAuth.
const pruneBatch = 1000

func (s *Store) Prune(ctx context.Context) (int64, error) {
	defer s.timed(ctx, "prune")()
	now := s.now()
	var total int64
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM oauth_tokens WHERE hash IN (SELECT hash FROM oauth_tokens WHERE NOT refresh AND expires_at < $1 LIMIT ` + fmt.Sprint(pruneBatch) + `)`, now.UnixMilli()},
		{`DELETE FROM oauth_tokens WHERE hash IN (SELECT hash FROM oauth_tokens WHERE refresh AND used_at < $1 LIMIT ` + fmt.Sprint(pruneBatch) + `)`, now.Add(-24 * time.Hour).UnixMilli()},
		{`DELETE FROM oauth_codes WHERE hash IN (SELECT hash FROM oauth_codes WHERE expires_at < $1 LIMIT ` + fmt.Sprint(pruneBatch) + `)`, now.Add(-time.Hour).UnixMilli()},
		{`DELETE FROM cursors WHERE id IN (SELECT id FROM cursors WHERE expires_at < $1 LIMIT ` + fmt.Sprint(pruneBatch) + `)`, now.UnixMilli()},
	} {
		for {
			res, err := s.db.ExecContext(ctx, q.sql, q.arg)
			if err != nil {
				return total, err
			}
			n, _ := res.RowsAffected()
			total += n
			if n < pruneBatch {
				break
			}
		}
	}
	return total, nil
}

var grantAndOwnerByAccessToken = `SELECT t.expires_at, ` + prefixed("g.", grantColumns) + `, ` + prefixed("u.", userColumns) + `
	FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id
	WHERE t.hash = $1 AND NOT t.refresh`

func (s *Store) OAuthAccessToken(ctx context.Context, hash string) (*graphgate.Grant, error) {
	defer s.timed(ctx, "oauth_access_token")()
	var expires sql.NullInt64
	// The owner comes in the same read: every MCP request asks for both.
	row := s.db.QueryRowContext(ctx, grantAndOwnerByAccessToken, hash)
	var g graphgate.Grant
	var owner graphgate.User
	var scopes string
	var created, used, gexp, revoked sql.NullInt64
	udest, ufinish := userFields(&owner)
	err := row.Scan(append([]any{&expires, &g.ID, &g.UserID, &g.ClientID, &g.ClientName, &g.RedirectHost, &scopes, &created, &used, &gexp, &revoked, &g.ConfirmWrites}, udest...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token")
	}
	if err != nil {
		return nil, err
	}
	ufinish()
	g.Owner = &owner
	g.Scopes = strings.Fields(scopes)
	g.CreatedAt, g.LastUsedAt, g.ExpiresAt, g.RevokedAt = fromMS(created), fromMS(used), fromMS(gexp), fromMS(revoked)
	if now := s.now(); !g.Live(now) || !now.Before(fromMS(expires)) {
		return nil, notFound("Token")
	}
	return &g, nil
}

func prefixed(p, columns string) string {
	parts := strings.Split(columns, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (s *Store) RevokeOAuthToken(ctx context.Context, hash string) error {
	defer s.timed(ctx, "revoke_oauth_token")()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var grantID int64
		var refresh bool
		err := tx.QueryRowContext(ctx, `SELECT grant_id, refresh FROM oauth_tokens WHERE hash = $1`, hash).Scan(&grantID, &refresh)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		case refresh:
			return revokeGrantTx(ctx, tx, grantID, s.now())
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE hash = $1`, hash)
		return err
	})
}

func (s *Store) Grants(ctx context.Context, userID int64) ([]*graphgate.Grant, error) {
	defer s.timed(ctx, "grants")()
	q, args := `SELECT `+grantColumns+` FROM oauth_grants WHERE revoked_at IS NULL ORDER BY created_at DESC, id DESC`, []any{}
	if userID != 0 {
		q, args = `SELECT `+grantColumns+` FROM oauth_grants WHERE revoked_at IS NULL AND user_id = $1 ORDER BY created_at DESC, id DESC`, []any{userID}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*graphgate.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *Store) RevokeGrant(ctx context.Context, userID, id int64) error {
	defer s.timed(ctx, "revoke_grant")()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM oauth_grants WHERE id = $1 AND revoked_at IS NULL`, id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || err == nil && userID != 0 && owner != userID {
			return notFound("Connected app")
		}
		if err != nil {
			return err
		}
		return revokeGrantTx(ctx, tx, id, s.now())
	})
}

// revokeGrantTx ends a grant: its tokens and its one-time links go.
func revokeGrantTx(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now.UnixMilli(), id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE grant_id = $1`, id); err != nil {
		return err
	}
	return endLinks(ctx, tx, "grant_id = $1", id)
}

func (s *Store) TouchGrant(ctx context.Context, id int64, at time.Time) error {
	defer s.timed(ctx, "touch_grant")()
	_, err := s.db.ExecContext(ctx, `UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2`, at.UnixMilli(), id)
	return err
}
