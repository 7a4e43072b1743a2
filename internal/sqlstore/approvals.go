package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

const (
	approvalColumns = `id, approval_key, user_id, COALESCE(token_id, 0), COALESCE(grant_id, 0), label, tool, summary_enc, state, created_at, expires_at`
	summaryContext  = "approvals.summary"
)

func (s *Store) scanApproval(row interface{ Scan(...any) error }) (*graphgate.Approval, error) {
	var a graphgate.Approval
	var sealed, state string
	var created, expires sql.NullInt64
	if err := row.Scan(&a.ID, &a.Key, &a.UserID, &a.TokenID, &a.GrantID, &a.Label, &a.Tool, &sealed, &state, &created, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Approval")
		}
		return nil, err
	}
	summary, err := s.keys.Open(sealed, summaryContext)
	if err != nil {
		return nil, err
	}
	a.Summary, a.State = string(summary), graphgate.ApprovalState(state)
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	return &a, nil
}

func (s *Store) AskApproval(ctx context.Context, a *graphgate.Approval) (*graphgate.Approval, error) {
	defer s.timed(ctx, "ask_approval")()
	now := s.now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now.UTC()
	}
	sealed, err := s.keys.Seal([]byte(a.Summary), summaryContext)
	if err != nil {
		return nil, err
	}
	var out *graphgate.Approval
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM approvals WHERE expires_at <= $1`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO approvals (id, approval_key, user_id, token_id, grant_id, label, tool, summary_enc, state, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (approval_key) DO NOTHING`,
			a.ID, a.Key, a.UserID, a.TokenID, a.GrantID, a.Label, a.Tool, sealed, string(graphgate.ApprovalAsked), ms(a.CreatedAt), ms(a.ExpiresAt)); err != nil {
			return err
		}
		out, err = s.scanApproval(tx.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE approval_key = $1`, a.Key))
		return err
	})
	return out, err
}

func (s *Store) Approval(ctx context.Context, userID int64, id string) (*graphgate.Approval, error) {
	defer s.timed(ctx, "approval")()
	return s.scanApproval(s.db.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = $1 AND user_id = $2 AND expires_at > $3`,
		id, userID, s.now().UnixMilli()))
}

func (s *Store) PendingApprovals(ctx context.Context, userID int64) ([]*graphgate.Approval, error) {
	defer s.timed(ctx, "pending_approvals")()
	rows, err := s.db.QueryContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE user_id = $1 AND state = $2 AND expires_at > $3
		ORDER BY created_at DESC, id LIMIT 50`, userID, string(graphgate.ApprovalAsked), s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*graphgate.Approval
	for rows.Next() {
		a, err := s.scanApproval(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) DecideApproval(ctx context.Context, userID int64, id string, approve bool) error {
	defer s.timed(ctx, "decide_approval")()
	state := graphgate.ApprovalDeclined
	if approve {
		state = graphgate.ApprovalApproved
	}
	res, err := s.db.ExecContext(ctx, `UPDATE approvals SET state = $1 WHERE id = $2 AND user_id = $3 AND state = $4 AND expires_at > $5`,
		string(state), id, userID, string(graphgate.ApprovalAsked), s.now().UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("Approval")
	}
	return nil
}

func (s *Store) TakeApproval(ctx context.Context, key string) (*graphgate.Approval, error) {
	defer s.timed(ctx, "take_approval")()
	return s.scanApproval(s.db.QueryRowContext(ctx, `DELETE FROM approvals WHERE approval_key = $1 AND state <> $2 AND expires_at > $3 RETURNING `+approvalColumns,
		key, string(graphgate.ApprovalAsked), s.now().UnixMilli()))
}
