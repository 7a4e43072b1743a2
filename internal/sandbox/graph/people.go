package graph

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"graphgate/internal/sandbox/directory"
)

// People and the directory: /me/people (People.Read), the people a person
// works with most, ranked by how much mail they exchange; /users with
// $search (User.ReadBasic.All, work and school accounts), which Graph serves
// only with ConsistencyLevel: eventual.

type personJSON struct {
	ID                   string            `json:"id"`
	DisplayName          string            `json:"displayName"`
	GivenName            *string           `json:"givenName"`
	Surname              *string           `json:"surname"`
	JobTitle             *string           `json:"jobTitle"`
	CompanyName          *string           `json:"companyName"`
	Department           *string           `json:"department"`
	OfficeLocation       *string           `json:"officeLocation"`
	UserPrincipalName    string            `json:"userPrincipalName"`
	ScoredEmailAddresses []map[string]any  `json:"scoredEmailAddresses"`
	PersonType           map[string]string `json:"personType"`
	score                float64
}

func nullable(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// searchTerm reads a $search value: quotes off, and for /users the
// property prefix ("displayName:meg").
func searchTerm(v string) string {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if _, after, ok := strings.Cut(v, ":"); ok && !strings.Contains(v, "@") {
		v = after
	}
	return strings.ToLower(strings.Trim(v, `"`))
}

// matches is the search's fuzziness: the term anywhere in the name or the
// address, without case.
func matches(term, name, addr string) bool {
	return strings.Contains(strings.ToLower(name), term) || strings.Contains(strings.ToLower(addr), term)
}

func (s *Server) people(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	q := r.URL.Query()
	term := ""
	if v, ok := odataParam(q, "search"); ok {
		term = searchTerm(v)
	}
	top, skip := 10, 0
	if v, ok := odataParam(q, "top"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			badRequest("ErrorInvalidParameter", "The value '%s' of parameter '$top' is invalid.", v).write(w, r)
			return
		}
		top = n
	}
	if v, ok := odataParam(q, "skip"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || term != "" {
			badRequest("ErrorInvalidParameter", "$skip is not supported with $search, and must be a whole number.").write(w, r)
			return
		}
		skip = n
	}
	// Mail exchanged, by address: who the person works with most.
	byAddr := map[string]*personJSON{}
	add := func(name, addr string, score float64) {
		key := strings.ToLower(addr)
		if key == "" || key == strings.ToLower(mb.Owner.UPN) {
			return
		}
		p := byAddr[key]
		if p == nil {
			p = &personJSON{ID: StableID("", "person", key)[:36], DisplayName: name, UserPrincipalName: "",
				ScoredEmailAddresses: []map[string]any{{"address": addr, "relevanceScore": 0.0}},
				PersonType:           map[string]string{"class": "Person", "subclass": "PersonalContact"}}
			byAddr[key] = p
		}
		p.score += score
	}
	mb.mu.RLock()
	for _, m := range mb.messages {
		if m.From != nil {
			add(m.From.EmailAddress.Name, m.From.EmailAddress.Address, 1)
		}
		for _, rc := range m.ToRecipients {
			add(rc.EmailAddress.Name, rc.EmailAddress.Address, 2) // written to counts more
		}
	}
	mb.mu.RUnlock()
	directory := !mb.Owner.Personal() && strings.Contains(strings.ToLower(r.Header.Get("X-PeopleQuery-QuerySources")), "directory")
	for _, p := range s.store.people {
		if p.Tenant != mb.Owner.Tenant || p.Personal() {
			continue
		}
		key := strings.ToLower(p.UPN)
		if byAddr[key] == nil {
			if !directory {
				continue
			}
			add(p.DisplayName, p.UPN, 0)
		}
		fillPerson(byAddr[key], p)
	}
	var out []*personJSON
	for _, p := range byAddr {
		if matches(term, p.DisplayName, p.ScoredEmailAddresses[0]["address"].(string)) {
			p.ScoredEmailAddresses[0]["relevanceScore"] = p.score
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *personJSON) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.DisplayName, b.DisplayName)
	})
	if skip > len(out) {
		skip = len(out)
	}
	out = out[skip:min(len(out), skip+top)]
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/people", out, "", selectParam(r), nil)
}

// fillPerson completes a person found in mail with the directory's profile.
func fillPerson(p *personJSON, d *directory.Person) {
	p.ID, p.DisplayName, p.UserPrincipalName = d.ObjectID, d.DisplayName, d.UPN
	p.GivenName, p.Surname, p.JobTitle = nullable(d.GivenName), nullable(d.Surname), nullable(d.JobTitle)
	p.Department, p.OfficeLocation, p.CompanyName = nullable(d.Department), nullable(d.Office), nullable(d.Tenant.Name)
	p.PersonType = map[string]string{"class": "Person", "subclass": "OrganizationUser"}
}

// users serves GET /users: the caller's directory, with $search.
func (s *Server) users(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	q := r.URL.Query()
	v, searching := odataParam(q, "search")
	if searching && !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		badRequest("Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'").write(w, r)
		return
	}
	top := 100
	if t, ok := odataParam(q, "top"); ok {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			badRequest("Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t).write(w, r)
			return
		}
		top = n
	}
	var terms []string
	for _, clause := range strings.Split(v, " OR ") {
		terms = append(terms, searchTerm(clause))
	}
	var out []map[string]any
	for _, p := range s.store.people {
		if p.Tenant != mb.Owner.Tenant {
			continue
		}
		found := !searching
		for _, t := range terms {
			found = found || matches(t, p.DisplayName, p.UPN)
		}
		if !found {
			continue
		}
		phones := []string{}
		if p.Phone != "" {
			phones = append(phones, p.Phone)
		}
		out = append(out, map[string]any{"id": p.ObjectID, "displayName": p.DisplayName, "givenName": nullable(p.GivenName),
			"surname": nullable(p.Surname), "mail": p.MailAddress(), "userPrincipalName": p.UPN, "jobTitle": nullable(p.JobTitle),
			"officeLocation": nullable(p.Office), "businessPhones": phones, "mobilePhone": nil, "preferredLanguage": "en-US"})
		if len(out) == top {
			break
		}
	}
	extra := map[string]any{}
	if c, _ := odataParam(q, "count"); c == "true" {
		extra["@odata.count"] = len(out)
	}
	writeCollection(w, r, "users", out, "", selectParam(r), extra)
}
