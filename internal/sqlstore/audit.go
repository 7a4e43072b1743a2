package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"graphgate"
)

// AddAudit stores events, several in one transaction: one commit instead
// of one per event when the tool-call writer catches up.
func (s *Store) AddAudit(ctx context.Context, events ...*graphgate.AuditEvent) error {
	defer s.timed(ctx, "add_audit")()
	if len(events) == 1 {
		return s.addAudit(ctx, s.db, events[0])
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := s.addAudit(ctx, s.db.forTx(tx), e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) addAudit(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, e *graphgate.AuditEvent) error {
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return err
	}
	var actor any
	if e.ActorID != 0 {
		actor = e.ActorID
	}
	return q.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor_id, actor_email, action, target, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.At.UnixMilli(), actor, e.ActorEmail, e.Action, e.Target, string(details)).Scan(&e.ID)
}

func (s *Store) ListAudit(ctx context.Context, f graphgate.AuditFilter) ([]*graphgate.AuditEvent, int, error) {
	defer s.timed(ctx, "list_audit")()
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Actor != "" {
		add("LOWER(actor_email) LIKE ?", "%"+strings.ToLower(f.Actor)+"%")
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixMilli())
	}
	clause := ""
	if len(where) > 0 {
		clause = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+clause, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor_id, actor_email, action, target, details FROM audit_log`+clause+
		` ORDER BY at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*graphgate.AuditEvent
	for rows.Next() {
		var e graphgate.AuditEvent
		var at sql.NullInt64
		var actor sql.NullInt64
		var details string
		if err := rows.Scan(&e.ID, &at, &actor, &e.ActorEmail, &e.Action, &e.Target, &details); err != nil {
			return nil, 0, err
		}
		e.At, e.ActorID = fromMS(at), actor.Int64
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, 0, err
		}
		out = append(out, &e)
	}
	return out, total, rows.Err()
}
