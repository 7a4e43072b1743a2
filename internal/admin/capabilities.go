package admin

import (
	"context"
	"slices"
	"strings"

	"graphgate"
	"graphgate/internal/microsoft365"
)

// SetCapabilities turns on exactly the capabilities named (any order,
// repeats ignored) and the rest off. Agents see the change at their next
// request, on every replica; links keep what Microsoft granted them.
func (s *Service) SetCapabilities(ctx context.Context, actor *graphgate.User, names []string) (*graphgate.M365Config, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	var on []string
	for _, c := range graphgate.Capabilities {
		if slices.Contains(names, c.Name) {
			on = append(on, c.Name)
		}
	}
	for _, n := range names {
		if _, ok := graphgate.CapabilityNamed(n); !ok {
			return nil, graphgate.Errorf(graphgate.EINVALID, "Unknown capability %q (graphgate offers %s).",
				microsoft365.PlainText(n, 64), strings.Join(graphgate.CapabilityNames(), ", "))
		}
	}
	var before []string
	cfg, err := s.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur == nil {
			return nil, graphgate.Errorf(graphgate.ENOTFOUND, "Microsoft 365 is not configured yet: add the app's credentials first.")
		}
		next := *cur
		before, next.Capabilities = cur.Capabilities, on
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	if slices.Equal(before, on) {
		return cfg, nil
	}
	return cfg, s.audit(ctx, actor, graphgate.ActionCapabilities, "microsoft365",
		map[string]string{"on": strings.Join(on, " "), "before": strings.Join(before, " ")})
}
