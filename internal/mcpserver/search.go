package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// search looks across mail, events and files at once. Work and school
// accounts use Microsoft Search (/search/query), which takes message,
// event and driveItem each in a request of its own: the requests go in
// parallel, and their hits are merged by rank. Microsoft Search is not
// offered to personal accounts: for them the same answer comes from each
// source's own search, in parallel too. Either way the answer waits one
// Graph round trip.

// searchSources are the sources, the toolset that may read each, and
// Microsoft Search's entity type.
var searchSources = []struct{ name, toolset, entity string }{
	{"mail", "mail", "message"},
	{"events", "calendar", "event"},
	{"files", "files", "driveItem"},
}

type searchAllIn struct {
	Query    string   `json:"query" jsonschema:"words to find"`
	Sources  []string `json:"sources,omitempty" jsonschema:"mail, events, files; default all"`
	PageSize int      `json:"page_size,omitempty" jsonschema:"per source, 1 to 25; default 5" bounds:"1,25"`
	Cursor   string   `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type hitOut struct {
	Source  string `json:"source"`
	ID      string `json:"id" jsonschema:"for get_message, get_event or get_file_info"`
	Title   string `json:"title"`
	When    string `json:"when,omitempty"`
	From    string `json:"from,omitempty"`
	Snippet string `json:"snippet,omitempty"`
}

type searchAllOut struct {
	Results    []hitOut `json:"results"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

func searchTool() toolDef {
	d := define("mail", &mcp.Tool{
		Name:  "search",
		Title: "Search everything",
		Description: "Searches mail, events and files at once, best matches first. " +
			writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in searchAllIn) (searchAllOut, error) {
		c := callerFromContext(ctx)
		state := url.Values{}
		if in.Cursor != "" {
			p, err := s.pathOfCursor(ctx, in.Cursor)
			if err != nil {
				return searchAllOut{}, err
			}
			if state, err = url.ParseQuery(strings.TrimPrefix(p, "search?")); err != nil || !strings.HasPrefix(p, "search?") {
				return searchAllOut{}, errBadCursor
			}
		} else {
			q := strings.TrimSpace(in.Query)
			if q == "" || len(q) > 500 || strings.ContainsAny(q, "\r\n") {
				return searchAllOut{}, invalid("query must be 1 to 500 characters on one line")
			}
			state.Set("q", q)
			size := in.PageSize
			if size == 0 {
				size = 5
			}
			state.Set("size", strconv.Itoa(size))
			for _, src := range searchSources {
				wanted := len(in.Sources) == 0
				for _, name := range in.Sources {
					wanted = wanted || name == src.name
				}
				if wanted && c.access.Allows(src.toolset, false) {
					state.Set(src.name, "0") // Microsoft Search: the offset; personal: the first page
				}
			}
			for _, name := range in.Sources {
				if name != "mail" && name != "events" && name != "files" {
					return searchAllOut{}, invalid("sources are mail, events and files")
				}
			}
			if len(state) == 2 {
				return searchAllOut{}, invalid("this token may read none of the sources asked for")
			}
		}
		size, _ := strconv.Atoi(state.Get("size"))
		if size < 1 || size > 25 {
			return searchAllOut{}, errBadCursor
		}
		personal := c.reach != nil && c.reach.Personal
		type found struct {
			hits []hitOut
			next string // the source's state for the next page; "" when done
			err  error
		}
		results := make([]found, len(searchSources))
		var wg sync.WaitGroup
		for i, src := range searchSources {
			at := state.Get(src.name)
			if at == "" {
				continue
			}
			wg.Go(func() {
				r := &results[i]
				if personal {
					r.hits, r.next, r.err = s.searchOwn(ctx, g, src.name, state.Get("q"), at, size)
				} else {
					r.hits, r.next, r.err = searchMicrosoft(ctx, g, src.name, src.entity, state.Get("q"), at, size)
				}
			})
		}
		wg.Wait()
		out := searchAllOut{Results: []hitOut{}}
		next := url.Values{"q": {state.Get("q")}, "size": {state.Get("size")}}
		for i, src := range searchSources {
			if results[i].err != nil {
				// A partial answer would read as "nothing there": say it.
				return searchAllOut{}, results[i].err
			}
			if results[i].next != "" {
				next.Set(src.name, results[i].next)
			}
		}
		// Merged by rank: each source's first hit, then each one's second...
		for rank := 0; rank < size; rank++ {
			for _, r := range results {
				if rank < len(r.hits) {
					out.Results = append(out.Results, r.hits[rank])
				}
			}
		}
		if len(next) > 2 {
			cur, err := s.cursorOfPath(ctx, "search?"+next.Encode(), pageCursorTTL)
			if err != nil {
				return searchAllOut{}, err
			}
			out.NextCursor = cur
		}
		return out, nil
	})
	d.also = []string{"calendar", "files"}
	return d
}

var highlightTag = regexp.MustCompile(`</?c0>|<ddd/>`)

// searchMicrosoft is one source through Microsoft Search, from the offset
// at; it returns the next offset while Microsoft has more.
func searchMicrosoft(ctx context.Context, g *graphapi.Client, source, entity, q, at string, size int) ([]hitOut, string, error) {
	from, err := strconv.Atoi(at)
	if err != nil || from < 0 || from > 10000 {
		return nil, "", errBadCursor
	}
	body := map[string]any{"requests": []any{map[string]any{"entityTypes": []string{entity}, "query": map[string]string{"queryString": q},
		"from": from, "size": size}}}
	var res struct {
		Value []struct {
			Containers []struct {
				More bool `json:"moreResultsAvailable"`
				Hits []struct {
					Summary  string `json:"summary"`
					Resource struct {
						ID       string    `json:"id"`
						Subject  string    `json:"subject"`
						Name     string    `json:"name"`
						Received time.Time `json:"receivedDateTime"`
						Modified time.Time `json:"lastModifiedDateTime"`
						From     *gAddress `json:"from"`
						Start    struct {
							DateTime string `json:"dateTime"`
						} `json:"start"`
					} `json:"resource"`
				} `json:"hits"`
			} `json:"hitsContainers"`
		} `json:"value"`
	}
	if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "search/query", Body: body, Safe: true}, &res); err != nil {
		return nil, "", err
	}
	var hits []hitOut
	next := ""
	for _, v := range res.Value {
		for _, c := range v.Containers {
			for _, h := range c.Hits {
				r := h.Resource
				hit := hitOut{Source: source, ID: r.ID, Snippet: trimRunes(oneline.Clean(highlightTag.ReplaceAllString(h.Summary, "")), 160)}
				switch source {
				case "mail":
					hit.Title, hit.When = oneline.Clean(r.Subject), r.Received.UTC().Format("2006-01-02 15:04")
					if r.From != nil {
						hit.From = oneline.Clean(r.From.EmailAddress.Address)
					}
				case "events":
					hit.Title, hit.When = oneline.Clean(r.Subject), strings.TrimSuffix(strings.Replace(r.Start.DateTime, "T", " ", 1), ":00.0000000")+" UTC"
				default:
					hit.Title, hit.When = oneline.Clean(r.Name), r.Modified.UTC().Format("2006-01-02 15:04")
				}
				hits = append(hits, hit)
			}
			if c.More {
				next = strconv.Itoa(from + len(c.Hits))
			}
		}
	}
	return hits, next, nil
}

// searchOwn is one source through its own search, for personal accounts:
// at is "0" for the first page, else the next page's Graph path.
func (s *Server) searchOwn(ctx context.Context, g *graphapi.Client, source, q, at string, size int) ([]hitOut, string, error) {
	req := graphapi.Request{Method: "GET", Safe: true}
	if at != "0" {
		if strings.Contains(at, "://") || strings.HasPrefix(at, "/") || hasDotSegment(at) || !strings.HasPrefix(at, "me/") {
			return nil, "", errBadCursor
		}
		req.Path = at
	} else {
		top := strconv.Itoa(size)
		switch source {
		case "mail":
			req.Path = "me/messages"
			req.Query = url.Values{"$search": {`"` + strings.ReplaceAll(q, `"`, `\"`) + `"`}, "$top": {top},
				"$select": {"id,subject,from,receivedDateTime,bodyPreview"}}
		case "events":
			req.Path = "me/events"
			req.Query = url.Values{"$filter": {"contains(subject," + quoteOData(q) + ")"}, "$top": {top},
				"$select": {"id,subject,start,bodyPreview"}, "$orderby": {"start/dateTime desc"}}
			req.Header = preferZone("UTC")
		default:
			req.Path = "me/drive/root/search(q='" + url.PathEscape(strings.ReplaceAll(q, "'", "''")) + "')"
			req.Query = url.Values{"$top": {top}, "$select": {"id,name,lastModifiedDateTime"}}
		}
	}
	var res struct {
		Value []struct {
			ID          string    `json:"id"`
			Subject     string    `json:"subject"`
			Name        string    `json:"name"`
			Preview     string    `json:"bodyPreview"`
			From        *gAddress `json:"from"`
			Received    time.Time `json:"receivedDateTime"`
			Modified    time.Time `json:"lastModifiedDateTime"`
			StartedWhen struct {
				DateTime string `json:"dateTime"`
			} `json:"start"`
		} `json:"value"`
		Next string `json:"@odata.nextLink"`
	}
	if _, err := g.Do(ctx, req, &res); err != nil {
		return nil, "", err
	}
	var hits []hitOut
	for _, v := range res.Value {
		hit := hitOut{Source: source, ID: v.ID, Snippet: trimRunes(oneline.Clean(v.Preview), 160)}
		switch source {
		case "mail":
			hit.Title, hit.When = oneline.Clean(v.Subject), v.Received.UTC().Format("2006-01-02 15:04")
			if v.From != nil {
				hit.From = oneline.Clean(v.From.EmailAddress.Address)
			}
		case "events":
			hit.Title, hit.When = oneline.Clean(v.Subject), fmt.Sprint(strings.TrimSuffix(strings.Replace(v.StartedWhen.DateTime, "T", " ", 1), ":00.0000000"), " UTC")
		default:
			hit.Title, hit.When = oneline.Clean(v.Name), v.Modified.UTC().Format("2006-01-02 15:04")
		}
		hits = append(hits, hit)
	}
	return hits, relativeLink(res.Next), nil
}
