package mcpserver

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// The people capability: find_people turns a name into addresses, from the
// people the person works with most and, for work and school accounts,
// their organisation's directory.

type findPeopleIn struct {
	Query string `json:"query" jsonschema:"a name, part of one, or an address"`
	Limit int    `json:"limit,omitempty" jsonschema:"1 to 25; default 10" bounds:"1,25"`
}

type personOut struct {
	Name       string `json:"name"`
	Email      string `json:"email"`
	JobTitle   string `json:"job_title,omitempty"`
	Department string `json:"department,omitempty"`
	Office     string `json:"office,omitempty"`
	Source     string `json:"source" jsonschema:"frequent: someone the person works with; directory: the organisation's directory"`
}

type peopleOut struct {
	People []personOut `json:"people"`
}

func findPeopleTool() toolDef {
	return define("people", &mcp.Tool{
		Name:  "find_people",
		Title: "Find people",
		Description: "Finds people by name or address: first the people the person works with most, then (work and school accounts) " +
			"the organisation's directory. Use it to get an address before writing or inviting someone.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in findPeopleIn) (peopleOut, error) {
		q := strings.TrimSpace(in.Query)
		if q == "" || len(q) > 200 || strings.ContainsAny(q, "\"\\") {
			return peopleOut{}, invalid("query must be a name or an address, without quotes or backslashes")
		}
		limit := in.Limit
		if limit == 0 {
			limit = 10
		}
		// The directory only where Microsoft granted it: work accounts.
		directory := false
		if c := callerFromContext(ctx); c != nil && c.reach != nil {
			directory = !c.reach.Personal && graphgate.HasPermission(c.reach.Granted, "User.ReadBasic.All")
		}
		var frequent, found []personOut
		var errFrequent, errDirectory error
		var wg sync.WaitGroup
		// Both sources at once: the answer waits one round trip, not two.
		wg.Go(func() { frequent, errFrequent = relevantPeople(ctx, g, q, limit) })
		if directory {
			wg.Go(func() { found, errDirectory = directoryPeople(ctx, g, q, limit) })
		}
		wg.Wait()
		if errFrequent != nil {
			return peopleOut{}, errFrequent
		}
		out := peopleOut{People: []personOut{}}
		seen := map[string]bool{}
		for _, p := range append(frequent, found...) {
			key := strings.ToLower(p.Email)
			if key == "" || seen[key] || len(out.People) == limit {
				continue
			}
			seen[key] = true
			out.People = append(out.People, p)
		}
		if errDirectory != nil && len(out.People) == 0 {
			return peopleOut{}, errDirectory
		}
		return out, nil
	})
}

func relevantPeople(ctx context.Context, g *graphapi.Client, q string, limit int) ([]personOut, error) {
	var res struct {
		Value []struct {
			DisplayName    string `json:"displayName"`
			JobTitle       string `json:"jobTitle"`
			Department     string `json:"department"`
			OfficeLocation string `json:"officeLocation"`
			UPN            string `json:"userPrincipalName"`
			Scored         []struct {
				Address string `json:"address"`
			} `json:"scoredEmailAddresses"`
		} `json:"value"`
	}
	_, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/people", Safe: true, Query: url.Values{
		"$search": {`"` + q + `"`}, "$top": {strconv.Itoa(limit)},
		"$select": {"displayName,jobTitle,department,officeLocation,userPrincipalName,scoredEmailAddresses"}}}, &res)
	var out []personOut
	for _, p := range res.Value {
		addr := p.UPN
		if len(p.Scored) > 0 {
			addr = p.Scored[0].Address
		}
		out = append(out, personOut{Name: oneline.Clean(p.DisplayName), Email: oneline.Clean(addr), JobTitle: oneline.Clean(p.JobTitle),
			Department: oneline.Clean(p.Department), Office: oneline.Clean(p.OfficeLocation), Source: "frequent"})
	}
	return out, err
}

func directoryPeople(ctx context.Context, g *graphapi.Client, q string, limit int) ([]personOut, error) {
	var res struct {
		Value []struct {
			DisplayName    string `json:"displayName"`
			Mail           string `json:"mail"`
			UPN            string `json:"userPrincipalName"`
			JobTitle       string `json:"jobTitle"`
			OfficeLocation string `json:"officeLocation"`
		} `json:"value"`
	}
	_, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "users", Safe: true,
		Header: map[string][]string{"ConsistencyLevel": {"eventual"}},
		Query: url.Values{"$search": {`"displayName:` + q + `" OR "mail:` + q + `"`}, "$top": {strconv.Itoa(limit)},
			"$select": {"displayName,mail,userPrincipalName,jobTitle,officeLocation"}}}, &res)
	var out []personOut
	for _, u := range res.Value {
		addr := u.Mail
		if addr == "" {
			addr = u.UPN
		}
		out = append(out, personOut{Name: oneline.Clean(u.DisplayName), Email: oneline.Clean(addr), JobTitle: oneline.Clean(u.JobTitle),
			Office: oneline.Clean(u.OfficeLocation), Source: "directory"})
	}
	return out, err
}
