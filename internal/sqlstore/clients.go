package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"graphgate"
)

func (s *Store) RememberClient(ctx context.Context, c *graphgate.MCPClient) error {
	defer s.timed(ctx, "remember_client")()
	if c.SeenAt.IsZero() {
		c.SeenAt = s.now().UTC()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO mcp_clients (access, user_id, apps, seen_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (access) DO UPDATE SET user_id = excluded.user_id, apps = excluded.apps, seen_at = excluded.seen_at`,
		c.Access, c.UserID, c.Apps, ms(c.SeenAt))
	return err
}

func (s *Store) MCPClient(ctx context.Context, access string) (*graphgate.MCPClient, error) {
	defer s.timed(ctx, "mcp_client")()
	c := graphgate.MCPClient{Access: access}
	var seen sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, apps, seen_at FROM mcp_clients WHERE access = $1`, access).Scan(&c.UserID, &c.Apps, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("MCP client")
	}
	if err != nil {
		return nil, err
	}
	c.SeenAt = fromMS(seen)
	return &c, nil
}
