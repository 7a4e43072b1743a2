package apitoken

import (
	"context"
	"errors"
	"slices"
	"time"

	"graphgate"
)

// ErrInvalid is a token that is unknown, revoked, expired, of a kind the
// caller does not accept, or whose owner is gone.
var ErrInvalid = errors.New("the token is not valid, has expired or was revoked")

// Principal is who a bearer token acts for, and what it may do.
type Principal struct {
	User *graphgate.User
	// Token is the ggt_ token presented (agent or admin); nil for OAuth.
	Token *graphgate.APIToken
	// Grant is the OAuth grant whose access token was presented; nil otherwise.
	Grant   *graphgate.Grant
	Expires time.Time // zero: never
}

// Kind is what the token is: agent, admin or oauth.
func (p *Principal) Kind() graphgate.TokenKind {
	if p.Grant != nil {
		return graphgate.TokenOAuth
	}
	return p.Token.Kind
}

// Scopes is what the token may do, as OAuth scopes; agent tokens' toolsets
// and read-only choice map onto the same scopes.
func (p *Principal) Scopes() []string {
	if p.Grant != nil {
		return p.Grant.Scopes
	}
	return graphgate.ScopesOf(p.Token.Toolsets, p.Token.ReadOnly)
}

// Allows reports whether the token may use a tool of the toolset that
// writes (or only reads).
func (p *Principal) Allows(toolset string, write bool) bool {
	return slices.Contains(p.Scopes(), graphgate.ScopeFor(toolset, write))
}

// ConfirmWrites reports whether sending and deleting wait for the
// person's yes (an option of agent tokens and connected apps).
func (p *Principal) ConfirmWrites() bool {
	if p.Grant != nil {
		return p.Grant.ConfirmWrites
	}
	return p.Token != nil && p.Token.ConfirmWrites
}

// TokenID is the ggt_ token's id; 0 for OAuth.
func (p *Principal) TokenID() int64 {
	if p.Token == nil {
		return 0
	}
	return p.Token.ID
}

// GrantID is the OAuth grant's id; 0 for ggt_ tokens.
func (p *Principal) GrantID() int64 {
	if p.Grant == nil {
		return 0
	}
	return p.Grant.ID
}

// Label names the token in audit entries without revealing it.
func (p *Principal) Label() string {
	if p.Grant != nil {
		return "oauth:" + p.Grant.ClientName
	}
	return p.Token.Prefix + "…"
}

// Checker verifies every kind of bearer token graphgate issues: agent and
// admin API tokens (ggt_) and OAuth access tokens (gga_), against their
// stored hashes. Last use is recorded at most once a minute.
type Checker struct {
	store graphgate.Store
	now   func() time.Time
}

// NewChecker returns a checker; now may be nil.
func NewChecker(store graphgate.Store, now func() time.Time) *Checker {
	if now == nil {
		now = time.Now
	}
	return &Checker{store: store, now: now}
}

// Check returns the principal of raw when it is a live token of one of the
// kinds. Invalid tokens are ErrInvalid; a store failure is returned as is.
func (c *Checker) Check(ctx context.Context, raw string, kinds ...graphgate.TokenKind) (*Principal, error) {
	now := c.now()
	var p Principal
	switch {
	case PlausibleAccess(raw) && slices.Contains(kinds, graphgate.TokenOAuth):
		g, err := c.store.OAuthAccessToken(ctx, Hash(raw))
		if err != nil {
			return nil, notFoundIsInvalid(err)
		}
		p.Grant, p.Expires = g, g.ExpiresAt
		if now.Sub(g.LastUsedAt) > time.Minute {
			_ = c.store.TouchGrant(ctx, g.ID, now)
		}
	case Plausible(raw):
		t, err := c.store.APITokenByHash(ctx, Hash(raw))
		if err != nil {
			return nil, notFoundIsInvalid(err)
		}
		if !slices.Contains(kinds, t.Kind) || !t.RevokedAt.IsZero() || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
			return nil, ErrInvalid
		}
		p.Token, p.Expires = t, t.ExpiresAt
		if now.Sub(t.LastUsedAt) > time.Minute {
			_ = c.store.TouchAPIToken(ctx, t.ID, now)
		}
	default:
		return nil, ErrInvalid
	}
	if p.Grant != nil {
		p.User = p.Grant.Owner
	} else {
		p.User = p.Token.Owner
	}
	if p.User == nil {
		return nil, errors.New("apitoken: the store did not say whose token this is")
	}
	return &p, nil
}

func notFoundIsInvalid(err error) error {
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return ErrInvalid
	}
	return err
}
