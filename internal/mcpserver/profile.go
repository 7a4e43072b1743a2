package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

type profileIn struct{}

type profileOut struct {
	Name              string `json:"name"`
	Email             string `json:"email"`
	ID                string `json:"id"`
	JobTitle          string `json:"job_title,omitempty"`
	Office            string `json:"office,omitempty"`
	TimeZone          string `json:"time_zone,omitempty" jsonschema:"the mailbox time zone (Windows name), when Microsoft lets graphgate read it"`
	TimeZoneAvailable bool   `json:"time_zone_available"`
}

func getProfileTool() toolDef {
	return define("profile", &mcp.Tool{
		Name:        "get_profile",
		Title:       "Who am I",
		Description: "Returns the linked Microsoft account: name, email, job title, office and, when readable, the mailbox time zone. Use it to learn whose mailbox the other tools act on.",
		Annotations: annotations("Who am I", true, false, true),
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
		// mailboxSettings needs MailboxSettings.Read, which graphgate does not
		// ask for: report the zone when the grant allows, and say so otherwise.
		var settings struct{ TimeZone string }
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/mailboxSettings", Safe: true}, &settings); err == nil {
			out.TimeZone, out.TimeZoneAvailable = settings.TimeZone, true
		}
		return out, nil
	})
}
