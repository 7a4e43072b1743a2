package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"graphgate"
)

const secretContext = "m365_config.client_secret"

func (s *Store) readM365(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, suffix string) (*graphgate.M365Config, error) {
	var c graphgate.M365Config
	var sealed, capabilities, consent string
	var setAt, expires, attentionAt, updated sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT client_id, client_secret_enc, secret_hint, secret_set_at, secret_expires_at,
		redirect_uri, enabled, attention, attention_at, updated_at, capabilities, admin_consent FROM m365_config WHERE id = 1`+suffix).
		Scan(&c.ClientID, &sealed, &c.SecretHint, &setAt, &expires, &c.RedirectURI, &c.Enabled, &c.Attention, &attentionAt, &updated,
			&capabilities, &consent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Microsoft 365 configuration")
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.keys.Open(sealed, secretContext)
	if err != nil {
		return nil, err
	}
	c.ClientSecret = string(secret)
	c.Capabilities = strings.Fields(capabilities)
	if consent != "" {
		if err := json.Unmarshal([]byte(consent), &c.AdminConsent); err != nil {
			return nil, err
		}
	}
	c.SecretSetAt, c.SecretExpiresAt, c.AttentionAt, c.UpdatedAt = fromMS(setAt), fromMS(expires), fromMS(attentionAt), fromMS(updated)
	return &c, nil
}

func (s *Store) M365Config(ctx context.Context) (*graphgate.M365Config, error) {
	defer s.timed(ctx, "m365_config")()
	return s.readM365(ctx, s.db, "")
}

func (s *Store) UpdateM365Config(ctx context.Context, fn func(cur *graphgate.M365Config) (*graphgate.M365Config, error)) (*graphgate.M365Config, error) {
	defer s.timed(ctx, "update_m365_config")()
	var out *graphgate.M365Config
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.lockConfig != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockConfig); err != nil {
				return err
			}
		}
		cur, err := s.readM365(ctx, tx, s.d.forUpdate)
		if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		next.UpdatedAt = s.now().UTC()
		sealed, err := s.keys.Seal([]byte(next.ClientSecret), secretContext)
		if err != nil {
			return err
		}
		var consent []byte
		if next.AdminConsent != nil {
			if consent, err = json.Marshal(next.AdminConsent); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO m365_config (id, client_id, client_secret_enc, secret_hint, secret_set_at,
			secret_expires_at, redirect_uri, enabled, attention, attention_at, updated_at, capabilities, admin_consent)
			VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, client_secret_enc = excluded.client_secret_enc,
			secret_hint = excluded.secret_hint, secret_set_at = excluded.secret_set_at, secret_expires_at = excluded.secret_expires_at,
			redirect_uri = excluded.redirect_uri, enabled = excluded.enabled, attention = excluded.attention,
			attention_at = excluded.attention_at, updated_at = excluded.updated_at, capabilities = excluded.capabilities,
			admin_consent = excluded.admin_consent`,
			next.ClientID, sealed, next.SecretHint, ms(next.SecretSetAt), ms(next.SecretExpiresAt), next.RedirectURI,
			next.Enabled, next.Attention, ms(next.AttentionAt), ms(next.UpdatedAt), strings.Join(next.Capabilities, " "), string(consent))
		out = next
		return err
	})
	return out, err
}

func (s *Store) DeleteM365Config(ctx context.Context) (int, error) {
	defer s.timed(ctx, "delete_m365_config")()
	var links int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM m365_config WHERE id = 1`)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("Microsoft 365 configuration")
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM links`)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		links = int(n)
		return nil
	})
	return links, err
}

func (s *Store) CountLinks(ctx context.Context) (int, error) {
	defer s.timed(ctx, "count_links")()
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM links`).Scan(&n)
	return n, err
}
