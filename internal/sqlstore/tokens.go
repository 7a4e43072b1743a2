package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"graphgate"
)

const tokenColumns = `id, user_id, kind, name, prefix, hash, read_only, toolsets, created_at, expires_at, last_used_at, revoked_at, confirm_writes`

var tokenAndOwnerByHash = `SELECT ` + prefixed("t.", tokenColumns) + `, ` + prefixed("u.", userColumns) + `
	FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`

// tokenFields are the scan destinations of tokenColumns for t, and what
// turns them into t's fields once scanned.
func tokenFields(t *graphgate.APIToken) ([]any, func()) {
	var kind, toolsets string
	var created, expires, used, revoked sql.NullInt64
	return []any{&t.ID, &t.UserID, &kind, &t.Name, &t.Prefix, &t.Hash, &t.ReadOnly, &toolsets, &created, &expires, &used, &revoked, &t.ConfirmWrites}, func() {
		t.Kind = graphgate.TokenKind(kind)
		if toolsets != "" {
			t.Toolsets = strings.Split(toolsets, ",")
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromMS(expires), fromMS(used), fromMS(revoked)
	}
}

func scanToken(row interface{ Scan(...any) error }) (*graphgate.APIToken, error) {
	var t graphgate.APIToken
	dest, finish := tokenFields(&t)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &t, nil
}

func (s *Store) CreateAPIToken(ctx context.Context, t *graphgate.APIToken) error {
	defer s.timed(ctx, "create_api_token")()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC()
	}
	return s.db.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, kind, name, prefix, hash, read_only, toolsets, created_at, expires_at, confirm_writes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		t.UserID, string(t.Kind), t.Name, t.Prefix, t.Hash, t.ReadOnly, strings.Join(t.Toolsets, ","), ms(t.CreatedAt), ms(t.ExpiresAt), t.ConfirmWrites).Scan(&t.ID)
}

func (s *Store) APITokenByHash(ctx context.Context, hash string) (*graphgate.APIToken, error) {
	defer s.timed(ctx, "api_token_by_hash")()
	// The owner comes in the same read: every MCP request asks for both.
	var t graphgate.APIToken
	var owner graphgate.User
	tdest, tfinish := tokenFields(&t)
	udest, ufinish := userFields(&owner)
	err := s.db.QueryRowContext(ctx, tokenAndOwnerByHash, hash).Scan(append(tdest, udest...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token")
	}
	if err != nil {
		return nil, err
	}
	tfinish()
	ufinish()
	t.Owner = &owner
	return &t, nil
}

func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]*graphgate.APIToken, error) {
	defer s.timed(ctx, "list_api_tokens")()
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*graphgate.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken ends the token and every one-time link it made.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id int64) error {
	defer s.timed(ctx, "revoke_api_token")()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`,
			s.now().UnixMilli(), id, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("Token")
		}
		return endLinks(ctx, tx, "token_id = $1", id)
	})
}

func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	defer s.timed(ctx, "touch_api_token")()
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, at.UnixMilli(), id)
	return err
}

func (s *Store) CountAgentTokens(ctx context.Context) (map[int64]int, error) {
	defer s.timed(ctx, "count_agent_tokens")()
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, COUNT(*) FROM api_tokens WHERE kind = 'agent' AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > $1) GROUP BY user_id`, s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
