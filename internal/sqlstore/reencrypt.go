package sqlstore

import (
	"context"
	"database/sql"

	"graphgate/internal/secretbox"
)

// sealedColumns lists every encrypted column: table, key column, value
// column. Contexts are "table.column" without the _enc suffix.
var sealedColumns = []struct{ table, key, column, context string }{
	{"m365_config", "id", "client_secret_enc", secretContext},
	{"sessions", "token_hash", "csrf", "sessions.csrf"},
	{"links", "user_id", "refresh_token_enc", "links.refresh_token"},
	{"links", "user_id", "access_token_enc", "links.access_token"},
	{"oauth_flows", "state_hash", "verifier_enc", "oauth_flows.verifier"},
	{"approvals", "id", "summary_enc", summaryContext},
	{"cursors", "id", "path_enc", cursorContext},
}

// Reencrypt re-seals every value not sealed with the newest key, one
// transaction per table, and returns how many values it rewrote.
func (s *Store) Reencrypt(ctx context.Context) (int, error) {
	defer s.timed(ctx, "reencrypt")()
	total := 0
	for _, c := range sealedColumns {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+c.key+`, `+c.column+` FROM `+c.table+` WHERE `+c.column+` IS NOT NULL`)
			if err != nil {
				return err
			}
			type pending struct {
				key    any
				sealed string
			}
			var todo []pending
			for rows.Next() {
				var p pending
				if err := rows.Scan(&p.key, &p.sealed); err != nil {
					rows.Close()
					return err
				}
				if secretbox.SealedWith(p.sealed) != s.keys.Newest() {
					todo = append(todo, p)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, p := range todo {
				pt, err := s.keys.Open(p.sealed, c.context)
				if err != nil {
					return err
				}
				resealed, err := s.keys.Seal(pt, c.context)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = $1 WHERE `+c.key+` = $2`, resealed, p.key); err != nil {
					return err
				}
				total++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
