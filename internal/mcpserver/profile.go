package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

type profileIn struct{}

type profileOut struct {
	Name           string `json:"name"`
	Email          string `json:"email"`
	ID             string `json:"id"`
	JobTitle       string `json:"job_title,omitempty"`
	Office         string `json:"office,omitempty"`
	TimeZone       string `json:"time_zone" jsonschema:"the person's time zone (IANA name)"`
	TimeZoneSource string `json:"time_zone_source" jsonschema:"mailbox settings, calendar (of the person's own events) or default (UTC)"`
	TimeZoneNote   string `json:"time_zone_note,omitempty" jsonschema:"set when Microsoft named a zone graphgate does not know"`
}

func getProfileTool() toolDef {
	return define("profile", &mcp.Tool{
		Name:        "get_profile",
		Title:       "Who am I",
		Description: "Returns the linked Microsoft account (whose mailbox the other tools act on): name, email, job title, office, and time zone (the calendar tools' default).",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, _ profileIn) (profileOut, error) {
		var me struct {
			ID, DisplayName, Mail, UserPrincipalName, JobTitle, OfficeLocation string
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me", Safe: true}, &me); err != nil {
			return profileOut{}, err
		}
		out := profileOut{Name: me.DisplayName, Email: me.Mail, ID: me.ID, JobTitle: me.JobTitle, Office: me.OfficeLocation}
		if out.Email == "" {
			out.Email = me.UserPrincipalName
		}
		if c := callerFromContext(ctx); c != nil {
			z := s.zoneOfMailbox(ctx, g, c.user.ID)
			out.TimeZone, out.TimeZoneSource = z.name, z.source
			if z.unknown != "" && z.source == "default" {
				out.TimeZoneNote = "Microsoft names the zone \"" + oneline.Clean(z.unknown) + "\", which graphgate does not know, so times are in UTC: " +
					"pass time_zone (an IANA name) to calendar tools for local times"
			}
		}
		return out, nil
	})
}
