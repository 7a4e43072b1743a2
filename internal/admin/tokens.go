package admin

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
)

// NewToken is what an API token is made of.
type NewToken struct {
	Kind          graphgate.TokenKind
	Name          string
	ReadOnly      bool
	ConfirmWrites bool
	Toolsets      []string
	ExpiresAt     time.Time // zero: no expiry
}

// MakeToken makes an API token for owner and records it in the audit log:
// the one place tokens are made, for the Integrations page and the command
// line alike. It returns the token, to show once. People make their own
// tokens; an admin token needs an admin owner and has no agent choices. A
// nil actor is the command line.
func (s *Service) MakeToken(ctx context.Context, actor, owner *graphgate.User, in NewToken) (string, *graphgate.APIToken, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case actor != nil && actor.ID != owner.ID && !actor.IsAdmin():
		return "", nil, graphgate.Errorf(graphgate.EFORBIDDEN, "You can make tokens for yourself only.")
	case in.Name == "" || len(in.Name) > 100:
		return "", nil, graphgate.Errorf(graphgate.EINVALID, "Give the token a name of up to 100 characters, such as the agent that will use it.")
	case in.Kind != graphgate.TokenAgent && in.Kind != graphgate.TokenAdmin:
		return "", nil, graphgate.Errorf(graphgate.EINVALID, "A token is for agents or for the admin API.")
	case in.Kind == graphgate.TokenAdmin && !owner.IsAdmin():
		return "", nil, graphgate.Errorf(graphgate.EINVALID, "%s is not an admin, so cannot own an admin API token.", owner.Email)
	case in.Kind == graphgate.TokenAdmin && (in.ReadOnly || in.ConfirmWrites || len(in.Toolsets) > 0):
		return "", nil, graphgate.Errorf(graphgate.EINVALID, "Read-only, asking first and toolsets are for agent tokens; an admin API token has none of them.")
	case !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(s.now()):
		return "", nil, graphgate.Errorf(graphgate.EINVALID, "The expiry must be in the future.")
	}
	for _, ts := range in.Toolsets {
		if !slices.Contains(graphgate.Toolsets, ts) {
			return "", nil, graphgate.Errorf(graphgate.EINVALID, "Unknown toolset %s (choose from %s).", ts, strings.Join(graphgate.Toolsets, ", "))
		}
	}
	raw, display, hash := apitoken.New()
	t := &graphgate.APIToken{UserID: owner.ID, Kind: in.Kind, Name: in.Name, Prefix: display, Hash: hash,
		ReadOnly: in.ReadOnly, ConfirmWrites: in.ConfirmWrites, Toolsets: in.Toolsets, ExpiresAt: in.ExpiresAt}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	details := map[string]string{"name": t.Name, "kind": string(t.Kind), "token": display + "…"}
	if t.Kind == graphgate.TokenAgent {
		details["readOnly"], details["confirmWrites"] = strconv.FormatBool(t.ReadOnly), strconv.FormatBool(t.ConfirmWrites)
		details["toolsets"] = strings.Join(t.Toolsets, ",")
	}
	if err := s.audit(ctx, actor, graphgate.ActionTokenCreate, owner.Email, details); err != nil {
		return "", nil, err
	}
	return raw, t, nil
}
