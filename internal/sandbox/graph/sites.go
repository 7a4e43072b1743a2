package graph

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// SharePoint: sites found by search, their document libraries, and the
// drive API on a library (/sites/{site}/drive/..., /drives/{drive}/...).
// Work and school accounts only. A site answers its members; anyone else
// gets SharePoint's 403 accessDenied.

var (
	scopesSitesRead = []string{"Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Files.Read.All", "Files.ReadWrite.All"}
	scopesSitesRW   = []string{"Sites.ReadWrite.All", "Sites.Manage.All", "Files.ReadWrite.All"}
	errSiteDenied   = &apiError{http.StatusForbidden, "accessDenied", "Access denied. You do not have permission to perform this action or access this resource."}
	errSiteNotFound = &apiError{http.StatusNotFound, "itemNotFound", "Requested site could not be found"}
)

// Site is a SharePoint site with its document libraries.
type Site struct {
	ID          string // hostname,site-collection-guid,web-guid
	Name        string // the address's last segment: marketing
	DisplayName string
	Description string
	Members     []*directory.Person
	Created     time.Time
	hostname    string
	// libraries hold each document library's drive (a Mailbox, for the
	// drive code's lock and download links), the default one first.
	libraries []*Mailbox
}

// URL is the site's address.
func (s *Site) URL() string { return "https://" + s.hostname + "/sites/" + s.Name }

// AddSite adds a site with document libraries (the first is its default,
// "Documents" in the tenant's language) for its members.
func (st *Store) AddSite(tenant *directory.Tenant, name, displayName, description string, members []*directory.Person, libraries ...string) *Site {
	host := strings.Split(tenant.Domain, ".")[0] + ".sharepoint.com"
	site := &Site{ID: host + "," + guidOf("site", name) + "," + guidOf("web", name), Name: name, DisplayName: displayName,
		Description: description, Members: members, hostname: host}
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, lib := range libraries {
		holder := &directory.Person{ObjectID: guidOf("library", name, lib), DisplayName: displayName, UPN: name + "@" + tenant.Domain, Tenant: tenant}
		mb := newMailbox(holder)
		d := mb.drive
		d.Type, d.Library = "documentLibrary", lib
		d.ID = "b!" + StableID("", site.ID, lib)[:43] + StableID("", lib, site.ID)[:21]
		urlName := lib
		if i == 0 {
			urlName = "Shared Documents"
		}
		d.libraryURL = site.URL() + "/" + (&url.URL{Path: urlName}).EscapedPath()
		d.root.ID = d.itemID("root")
		d.items = map[string]*DriveItem{d.root.ID: d.root}
		st.boxes[holder.ObjectID] = mb
		site.libraries = append(site.libraries, mb)
	}
	st.sites = append(st.sites, site)
	return site
}

// Library is a site's document library by name, for seeding.
func (s *Site) Library(name string) *Drive {
	for _, mb := range s.libraries {
		if mb.drive.Library == name {
			return mb.drive
		}
	}
	return nil
}

func (s *Site) view(r *http.Request) map[string]any {
	return map[string]any{"id": s.ID, "name": s.Name, "displayName": s.DisplayName, "description": s.Description,
		"createdDateTime": s.Created.UTC().Format(time.RFC3339), "lastModifiedDateTime": s.Created.UTC().Format(time.RFC3339),
		"webUrl": s.URL(), "siteCollection": map[string]string{"hostname": s.hostname}}
}

// siteByRef finds a site by id ("host,guid,guid") or by path ("host:/sites/name"),
// for a member.
func (st *Store) siteByRef(ref string, p *directory.Person) (*Site, *apiError) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, s := range st.sites {
		byPath := strings.EqualFold(ref, s.hostname+":/sites/"+s.Name) || strings.EqualFold(ref, s.hostname+":/sites/"+s.Name+"/")
		if s.ID == ref || byPath {
			if !isMember(s.Members, p) {
				return nil, errSiteDenied
			}
			return s, nil
		}
	}
	if h, _, _ := strings.Cut(ref, ","); !strings.HasSuffix(strings.ToLower(strings.Split(h, ":")[0]), ".sharepoint.com") {
		return nil, badRequest("invalidRequest", "Invalid hostname for this tenancy")
	}
	return nil, errSiteNotFound
}

// searchSites serves GET /sites?search=: the sites the caller may open
// whose name, title or description has the words ("*": all of them).
func (s *Server) searchSites(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	q, ok := r.URL.Query()["search"]
	if !ok {
		// Listing every site is for applications only.
		errSiteDenied.write(w, r)
		return
	}
	term := strings.ToLower(strings.TrimSpace(q[0]))
	st := s.store
	st.mu.RLock()
	var views []map[string]any
	for _, site := range st.sites {
		text := strings.ToLower(site.Name + " " + site.DisplayName + " " + site.Description)
		if isMember(site.Members, mb.Owner) && (term == "*" || term == "" || strings.Contains(text, term)) {
			views = append(views, site.view(r))
		}
	}
	st.mu.RUnlock()
	writeCollection(w, r, "sites", views, "", nil, nil)
}

// serveSites serves /sites/{site}, /sites/{site}/drives and
// /sites/{site}/drive/... (the default library).
func (s *Server) serveSites(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0/sites/")
	var ref string
	if i := strings.Index(rest, ":/"); i >= 0 && !strings.Contains(rest[:i], "/") {
		// host:/sites/name: then what follows the closing colon
		end := strings.Index(rest[i+2:], ":")
		if end < 0 {
			ref, rest = rest, ""
		} else {
			ref, rest = rest[:i+2+end], rest[i+2+end+1:]
		}
	} else {
		ref, rest, _ = strings.Cut(rest, "/")
		rest = "/" + rest
	}
	ref, err := url.PathUnescape(ref)
	if err != nil {
		errDriveBadID.write(w, r)
		return
	}
	site, e := s.store.siteByRef(ref, mb.Owner)
	if e != nil {
		e.write(w, r)
		return
	}
	rest = strings.TrimSuffix(rest, "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, project(site.view(r), selectParam(r)))
	case rest == "/drives" && r.Method == http.MethodGet:
		var views []map[string]any
		for _, lib := range site.libraries {
			lib.mu.RLock()
			views = append(views, s.driveJSON(r, lib.drive))
			lib.mu.RUnlock()
		}
		writeCollection(w, r, "drives", views, "", selectParam(r), nil)
	case rest == "/drive" || strings.HasPrefix(rest, "/drive/"):
		if !s.mayWriteLibrary(w, r) {
			return
		}
		s.serveDriveAt(w, r, site.libraries[0], strings.TrimPrefix(rest, "/drive"))
	default:
		badRequest("BadRequest", "Resource not found for the segment '%s'.", strings.Trim(rest, "/")).write(w, r)
	}
}

// mayWriteLibrary refuses a change to a library without a write scope.
func (s *Server) mayWriteLibrary(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || hasAny(callerOf(r).Scopes, scopesSitesRW) {
		return true
	}
	denied(w, r, "accessDenied")
	return false
}

// serveDrives serves /drives/{drive}/...: the caller's own OneDrive with
// the Files scopes, a library of a site they are a member of with the
// Sites ones.
func (s *Server) serveDrives(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, caller))
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0/drives/")
	id, rest, _ := strings.Cut(rest, "/")
	rest = "/" + rest
	if id, _ = url.PathUnescape(id); id == "" {
		errDriveBadID.write(w, r)
		return
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if own, ok := s.store.Mailbox(caller.Person.ObjectID); ok && own.drive.ID == id {
		if read && !hasAny(caller.Scopes, scopesFileRead) || !read && !hasAny(caller.Scopes, scopesFileRW) {
			denied(w, r, "accessDenied")
			return
		}
		s.serveDriveAt(w, r, own, strings.TrimSuffix(rest, "/"))
		return
	}
	if !hasAny(caller.Scopes, scopesSitesRead) {
		denied(w, r, "accessDenied")
		return
	}
	s.store.mu.RLock()
	var lib *Mailbox
	var site *Site
	for _, st := range s.store.sites {
		for _, mb := range st.libraries {
			if mb.drive.ID == id {
				lib, site = mb, st
			}
		}
	}
	s.store.mu.RUnlock()
	switch {
	case lib == nil:
		errDriveNotFound.write(w, r)
	case !isMember(site.Members, caller.Person):
		errSiteDenied.write(w, r)
	case s.mayWriteLibrary(w, r):
		s.serveDriveAt(w, r, lib, strings.TrimSuffix(rest, "/"))
	}
}

// Sites are the store's sites, in the order they were added.
func (st *Store) Sites() []*Site {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return slices.Clone(st.sites)
}
