package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// SharePoint (the sharepoint capability): finding sites and their
// document libraries. The files tools work in a library through their
// site and drive arguments (see usePlace).

// SiteOut is a SharePoint site or one of its libraries.
type SiteOut struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

type sitesOut struct {
	Sites []SiteOut `json:"sites"`
}

type drivesOut struct {
	Drives []SiteOut `json:"drives"`
}

type searchSitesIn struct {
	Query string `json:"query" jsonschema:"words of the site's name or description; * for every site the person can open"`
}

func searchSitesTool() toolDef {
	return define("files", &mcp.Tool{
		Name:  "search_sites",
		Title: "Find SharePoint sites",
		Description: "Finds the SharePoint sites the person can open, by name. Pass a site's id or url as site to the files tools " +
			"for its main library, or find its libraries with list_site_drives. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in searchSitesIn) (sitesOut, error) {
		q := strings.TrimSpace(in.Query)
		if q == "" || len(q) > 200 || strings.ContainsAny(q, "\r\n") {
			return sitesOut{}, invalid("query must be one line of words, or *")
		}
		var res struct {
			Value []struct{ ID, Name, DisplayName, Description, WebURL string } `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: "sites", Query: url.Values{"search": {q}}}, &res); err != nil {
			return sitesOut{}, err
		}
		out := sitesOut{Sites: []SiteOut{}}
		for _, site := range res.Value {
			name := site.DisplayName
			if name == "" {
				name = site.Name
			}
			out.Sites = append(out.Sites, SiteOut{ID: site.ID, Name: oneline.Clean(name), URL: oneline.Clean(site.WebURL),
				Description: trimRunes(oneline.Clean(site.Description), 200)})
		}
		return out, nil
	})
}

type listSiteDrivesIn struct {
	Site string `json:"site" jsonschema:"a site's id or url from search_sites"`
}

func listSiteDrivesTool() toolDef {
	return define("files", &mcp.Tool{
		Name:  "list_site_drives",
		Title: "List a site's libraries",
		Description: "Lists a SharePoint site's document libraries. Pass a library's id as drive to the files tools. " +
			writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listSiteDrivesIn) (drivesOut, error) {
		ref, ok := siteRef(strings.TrimSpace(in.Site))
		if !ok {
			return drivesOut{}, invalid(fmt.Sprintf("site must be a site id from search_sites or its https://….sharepoint.com/sites/… address, not %q", in.Site))
		}
		var res struct {
			Value []struct{ ID, Name, Description, WebURL string } `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: "sites/" + ref + "/drives",
			Query: url.Values{"$select": {"id,name,description,webUrl"}}}, &res); err != nil {
			return drivesOut{}, notInSite(err)
		}
		out := drivesOut{Drives: []SiteOut{}}
		for _, d := range res.Value {
			out.Drives = append(out.Drives, SiteOut{ID: d.ID, Name: oneline.Clean(d.Name), URL: oneline.Clean(d.WebURL),
				Description: trimRunes(oneline.Clean(d.Description), 200)})
		}
		return out, nil
	})
}

// notInSite says in words what SharePoint answers with 403 for a site or
// library: the person may not open it.
func notInSite(err error) error {
	var ge *graphapi.Error
	if errors.As(err, &ge) && ge.Status == http.StatusForbidden {
		return tell("This person may not open that SharePoint site or library: they are not a member of the site (SharePoint: %s).", ge.Code)
	}
	return err
}
