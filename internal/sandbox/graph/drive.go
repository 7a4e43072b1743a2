package graph

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Simple uploads accept up to 250 MB; larger files need an upload session.
const maxSimpleUpload = 250 << 20

var (
	errDriveNotFound = &apiError{http.StatusNotFound, "itemNotFound", "The resource could not be found."}
	errDriveBadID    = &apiError{http.StatusBadRequest, "invalidRequest", "Invalid request"}
)

var driveItemType = entityType{
	name: "microsoft.graph.driveItem", maxTop: 1000, defTop: 200, skipName: "$skiptoken",
	props: setOf("name", "size", "lastmodifieddatetime", "createddatetime", "file", "folder"),
}

func (it *DriveItem) field(p string) any {
	switch p {
	case "name":
		return it.Name
	case "size":
		return float64(it.size)
	case "lastmodifieddatetime":
		return it.Modified
	case "createddatetime":
		return it.Created
	case "file":
		if it.IsFolder {
			return nil
		}
		return "file"
	case "folder":
		if it.IsFolder {
			return "folder"
		}
		return nil
	}
	return nil
}

// driveTarget is a parsed /me/drive/... address.
type driveTarget struct {
	base   *DriveItem // root or items/{id}
	rel    string     // path after "root:" or "items/{id}:", unescaped
	action string     // children, content, createUploadSession, delta, search(q='...'), ...
}

// parseDriveTarget parses the path after /v1.0/me/drive, on the escaped form
// so that an encoded ":" in a name is not taken for path syntax.
func (d *Drive) parseDriveTarget(escaped string) (driveTarget, *apiError) {
	rest := escaped
	var t driveTarget
	switch {
	case strings.HasPrefix(rest, "/root"):
		t.base, rest = d.root, rest[len("/root"):]
	case strings.HasPrefix(rest, "/items/"):
		rest = rest[len("/items/"):]
		end := strings.IndexAny(rest, "/:")
		if end < 0 {
			end = len(rest)
		}
		id, err := url.PathUnescape(rest[:end])
		if err != nil || id == "" {
			return t, errDriveBadID
		}
		if id == "root" {
			t.base = d.root
		} else if t.base = d.items[id]; t.base == nil {
			if !d.plausibleID(id) {
				return t, errDriveBadID
			}
			return t, errDriveNotFound
		}
		rest = rest[end:]
	default:
		return t, &apiError{http.StatusBadRequest, "BadRequest", "Resource not found for the segment '" + strings.Trim(rest, "/") + "'."}
	}
	if strings.HasPrefix(rest, ":") {
		rest = rest[1:]
		relEsc, after, found := strings.Cut(rest, ":")
		if !found {
			relEsc, after = rest, ""
		}
		rel, err := url.PathUnescape(relEsc)
		if err != nil {
			return t, errDriveBadID
		}
		t.rel, rest = rel, after
	}
	action, err := url.PathUnescape(strings.Trim(rest, "/"))
	if err != nil {
		return t, errDriveBadID
	}
	t.action = action
	return t, nil
}

func (d *Drive) plausibleID(id string) bool {
	if d.Type == "personal" {
		return strings.Contains(id, "!")
	}
	return len(id) == 34 && strings.HasPrefix(id, "01")
}

// serveDrive dispatches everything under /v1.0/me/drive.
func (s *Server) serveDrive(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	s.serveDriveAt(w, r, mb, strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0/me/drive"))
}

// serveDriveAt serves the drive of mb (a person's OneDrive, or a site's
// library) at rest, the escaped path after the drive's own address.
func (s *Server) serveDriveAt(w http.ResponseWriter, r *http.Request, mb *Mailbox, rest string) {
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if write {
		mb.mu.Lock()
		defer mb.mu.Unlock()
	} else {
		mb.mu.RLock()
		defer mb.mu.RUnlock()
	}
	d := mb.drive
	if rest == "" || rest == "/" {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r)
			return
		}
		writeJSON(w, http.StatusOK, project(s.driveJSON(r, d), selectParam(r)))
		return
	}
	t, e := d.parseDriveTarget(rest)
	if e != nil {
		e.write(w, r)
		return
	}
	item, missing := d.resolve(t.base, t.rel)
	found := len(missing) == 0
	switch {
	case r.Method == http.MethodGet && t.action == "":
		s.withItem(w, r, found, func() { s.getItem(w, r, d, item) })
	case r.Method == http.MethodGet && t.action == "children":
		s.withItem(w, r, found, func() { s.listChildren(w, r, d, item) })
	case r.Method == http.MethodGet && t.action == "content":
		s.withItem(w, r, found, func() { s.redirectToContent(w, r, d, item) })
	case r.Method == http.MethodGet && t.action == "delta" && item == d.root && found:
		s.delta(w, r, d)
	case r.Method == http.MethodGet && strings.HasPrefix(t.action, "search("):
		s.withItem(w, r, found, func() { s.searchDrive(w, r, d, item, t.action) })
	case r.Method == http.MethodPut && t.action == "content":
		s.simpleUpload(w, r, mb, item, missing)
	case r.Method == http.MethodPost && t.action == "createUploadSession":
		s.createDriveUploadSession(w, r, mb, item, missing)
	case r.Method == http.MethodPost && t.action == "children":
		s.withItem(w, r, found, func() { s.createChild(w, r, d, item) })
	case r.Method == http.MethodPatch && t.action == "":
		s.withItem(w, r, found, func() { s.updateItem(w, r, d, item) })
	case r.Method == http.MethodDelete && t.action == "":
		s.withItem(w, r, found, func() { s.deleteItem(w, r, d, item) })
	case t.action == "" || t.action == "children" || t.action == "content":
		methodNotAllowed(w, r)
	default:
		badRequest("BadRequest", "Resource not found for the segment '%s'.", t.action).write(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func (s *Server) withItem(w http.ResponseWriter, r *http.Request, found bool, f func()) {
	if !found {
		errDriveNotFound.write(w, r)
		return
	}
	f()
}

func (s *Server) driveJSON(r *http.Request, d *Drive) map[string]any {
	var used int64
	for _, it := range d.items {
		if !it.IsFolder {
			used += it.size
		}
	}
	const total = 1 << 40
	name := "OneDrive"
	owner := map[string]any{"user": map[string]string{"displayName": d.Owner.DisplayName, "id": d.Owner.ObjectID, "email": d.Owner.UPN}}
	if d.Library != "" {
		name = d.Library
		owner = map[string]any{"group": map[string]string{"displayName": d.Owner.DisplayName, "id": d.Owner.ObjectID, "email": d.Owner.UPN}}
	}
	return map[string]any{
		"@odata.context":       baseURL(r) + "/v1.0/$metadata#drives/$entity",
		"id":                   d.ID,
		"driveType":            d.Type,
		"name":                 name,
		"createdDateTime":      d.root.Created,
		"lastModifiedDateTime": d.root.Modified,
		"webUrl":               d.webURL(""),
		"owner":                owner,
		"quota":                map[string]any{"deleted": 0, "remaining": total - used, "state": "normal", "total": total, "used": used},
	}
}

func (d *Drive) webURL(p string) string {
	if d.Type == "personal" {
		return "https://onedrive.live.com/?id=" + url.QueryEscape(p)
	}
	user := strings.NewReplacer("@", "_", ".", "_").Replace(d.Owner.UPN)
	u := "https://" + strings.Split(d.Owner.Tenant.Domain, ".")[0] + "-my.sharepoint.com/personal/" + user + "/Documents"
	if d.libraryURL != "" {
		u = d.libraryURL
	}
	if p != "" {
		u += "/" + (&url.URL{Path: p}).EscapedPath()
	}
	return u
}

// itemJSON renders a driveItem the way OneDrive serves it.
func (s *Server) itemJSON(r *http.Request, d *Drive, it *DriveItem) map[string]any {
	p := d.pathOf(it)
	who := map[string]any{"user": map[string]string{"email": d.Owner.UPN, "id": d.Owner.ObjectID, "displayName": d.Owner.DisplayName}}
	j := map[string]any{
		"createdDateTime":      it.Created,
		"eTag":                 it.etag(),
		"id":                   it.ID,
		"lastModifiedDateTime": it.Modified,
		"name":                 it.Name,
		"webUrl":               d.webURL(p),
		"cTag":                 it.ctag(),
		"size":                 it.size,
		"createdBy":            who,
		"lastModifiedBy":       who,
		"fileSystemInfo":       map[string]any{"createdDateTime": it.Created, "lastModifiedDateTime": it.Modified},
	}
	if it == d.root {
		j["root"] = map[string]any{}
		j["parentReference"] = map[string]any{"driveType": d.Type, "driveId": d.ID}
	} else {
		parent := d.items[it.ParentID]
		pp := "/drive/root:"
		if d.Library != "" {
			pp = "/drives/" + d.ID + "/root:"
		}
		if parent != nil && parent != d.root {
			pp += "/" + d.pathOf(parent)
		}
		j["parentReference"] = map[string]any{"driveType": d.Type, "driveId": d.ID, "id": it.ParentID,
			"name": parentName(d, parent), "path": pp}
	}
	if it.IsFolder {
		j["folder"] = map[string]any{"childCount": len(d.children(it.ID))}
	} else {
		j["file"] = map[string]any{"mimeType": it.MimeType}
		j["@microsoft.graph.downloadUrl"] = s.downloadURL(r, d, it)
	}
	return j
}

func parentName(d *Drive, parent *DriveItem) string {
	if parent == nil || parent == d.root {
		return "root"
	}
	return parent.Name
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, d *Drive, it *DriveItem) {
	j := s.itemJSON(r, d, it)
	if exp, _ := odataParam(r.URL.Query(), "expand"); strings.EqualFold(exp, "children") && it.IsFolder {
		var kids []any
		for _, c := range d.children(it.ID) {
			kids = append(kids, s.itemJSON(r, d, c))
		}
		j["children"] = kids
	}
	writeJSON(w, http.StatusOK, project(j, selectParam(r)))
}

func (s *Server) listChildren(w http.ResponseWriter, r *http.Request, d *Drive, it *DriveItem) {
	if !it.IsFolder {
		errDriveNotFound.write(w, r)
		return
	}
	lq, e := parseListQuery(r, driveItemType)
	if e != nil {
		e.write(w, r)
		return
	}
	var kids []*DriveItem
	for _, c := range d.children(it.ID) {
		if lq.filter == nil || lq.filter.eval(c) {
			kids = append(kids, c)
		}
	}
	items, next := page(r, kids, lq, driveItemType)
	out := make([]map[string]any, len(items))
	for i, c := range items {
		out[i] = s.itemJSON(r, d, c)
	}
	writeCollection(w, r, "users('"+d.Owner.ObjectID+"')/drive/items('"+it.ID+"')/children", out, next, lq.selects, nil)
}

func (s *Server) searchDrive(w http.ResponseWriter, r *http.Request, d *Drive, base *DriveItem, action string) {
	inner := strings.TrimSuffix(strings.TrimPrefix(action, "search("), ")")
	q, ok := strings.CutPrefix(inner, "q=")
	if !ok || len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		badRequest("invalidRequest", "Invalid search: expected search(q='text').").write(w, r)
		return
	}
	term := strings.ToLower(strings.ReplaceAll(q[1:len(q)-1], "''", "'"))
	lq, e := parseListQuery(r, driveItemType)
	if e != nil {
		e.write(w, r)
		return
	}
	var hits []*DriveItem
	for _, it := range d.items {
		if it == d.root || !d.isAncestor(base, it) {
			continue
		}
		if term == "" || strings.Contains(strings.ToLower(it.Name), term) || textContains(it, term) {
			hits = append(hits, it)
		}
	}
	sortItems(hits)
	items, next := page(r, hits, lq, driveItemType)
	out := make([]map[string]any, len(items))
	for i, c := range items {
		out[i] = s.itemJSON(r, d, c)
	}
	writeCollection(w, r, "Collection(driveItem)", out, next, lq.selects, nil)
}

// textContains searches inside small text files, as OneDrive's full-text index does.
func textContains(it *DriveItem, term string) bool {
	if it.IsFolder || it.size > 1<<20 || !strings.HasPrefix(it.MimeType, "text/") {
		return false
	}
	return bytes.Contains(bytes.ToLower(it.Content()), []byte(term))
}

// Downloads are pre-authenticated: the URL itself carries a signed, short-lived grant.

const downloadTTL = time.Hour

var downloadKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}()

func signDownload(payload string) string {
	m := hmac.New(sha256.New, downloadKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) downloadURL(r *http.Request, d *Drive, it *DriveItem) string {
	exp := s.now().Add(downloadTTL).Unix()
	return baseURL(r) + "/sandbox-download/" + signDownload(d.Owner.ObjectID+"|"+it.ID+"|"+strconv.FormatInt(exp, 10))
}

func (s *Server) redirectToContent(w http.ResponseWriter, r *http.Request, d *Drive, it *DriveItem) {
	if it.IsFolder {
		badRequest("invalidRequest", "Cannot download a folder.").write(w, r)
		return
	}
	w.Header().Set("Location", s.downloadURL(r, d, it))
	w.WriteHeader(http.StatusFound)
}

// serveDownload serves file bytes without an Authorization header, with
// Range support (206), like OneDrive's download host.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	payload, sig, ok := strings.Cut(r.PathValue("token"), ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if !ok || err != nil || !hmac.Equal([]byte(signDownload(string(raw))), []byte(payload+"."+sig)) {
		http.Error(w, "The download link is not valid.", http.StatusUnauthorized)
		return
	}
	parts := strings.Split(string(raw), "|")
	exp, _ := strconv.ParseInt(parts[2], 10, 64)
	if s.now().Unix() > exp {
		http.Error(w, "The download link has expired.", http.StatusUnauthorized)
		return
	}
	mb, ok := s.store.Mailbox(parts[0])
	if !ok {
		http.NotFound(w, r)
		return
	}
	mb.mu.Lock() // Content may materialise generated bytes
	it := mb.drive.items[parts[1]]
	var content []byte
	var name, ctype string
	var mod time.Time
	if it != nil {
		content, name, ctype, mod = it.Content(), it.Name, it.MimeType, it.Modified
	}
	mb.mu.Unlock()
	if it == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
	http.ServeContent(w, r, name, mod, bytes.NewReader(content))
}

// conflictBehavior reads @microsoft.graph.conflictBehavior from the query.
func conflictBehavior(r *http.Request, def string) (string, *apiError) {
	v := r.URL.Query().Get("@microsoft.graph.conflictBehavior")
	if v == "" {
		return def, nil
	}
	switch v {
	case "fail", "replace", "rename":
		return v, nil
	}
	return "", badRequest("invalidRequest", "Invalid value '%s' for @microsoft.graph.conflictBehavior.", v)
}

// placeFile decides where a new file goes under parent given a conflict
// behaviour; it returns the existing item to replace, if any, and the name.
func placeFile(d *Drive, parent *DriveItem, name, behavior string) (*DriveItem, string, *apiError) {
	existing := d.child(parent.ID, name)
	if existing == nil {
		return nil, name, nil
	}
	switch {
	case behavior == "fail":
		return nil, "", &apiError{http.StatusConflict, "nameAlreadyExists", "The specified item name already exists."}
	case behavior == "rename":
		return nil, d.uniqueName(parent.ID, name), nil
	case existing.IsFolder:
		return nil, "", &apiError{http.StatusConflict, "nameAlreadyExists", "A folder with the specified name already exists."}
	}
	return existing, name, nil
}

// uploadTarget resolves the parent folder and file name of an upload to a
// path ("root:/a/b.txt:") or a parent ("items/{id}:/b.txt:"), creating
// missing folders on the way as OneDrive does.
func (s *Server) uploadTarget(d *Drive, item *DriveItem, missing []string) (*DriveItem, string, *DriveItem, *apiError) {
	if len(missing) == 0 {
		if item.IsFolder {
			return nil, "", nil, badRequest("invalidRequest", "The target is a folder; give a file name.")
		}
		return d.items[item.ParentID], item.Name, item, nil
	}
	name := missing[len(missing)-1]
	if !validName(name) {
		return nil, "", nil, badRequest("invalidRequest", "The provided name contains invalid characters.")
	}
	if !item.IsFolder {
		return nil, "", nil, errDriveNotFound
	}
	parent := item
	for _, folder := range missing[:len(missing)-1] {
		if !validName(folder) {
			return nil, "", nil, badRequest("invalidRequest", "The provided name contains invalid characters.")
		}
		now := s.now().UTC().Truncate(time.Second)
		parent = d.AddFolder(parent, folder, now)
	}
	return parent, name, nil, nil
}

// commitFile writes content as a new file or over an existing one and answers
// with 201 or 200.
func (s *Server) commitFile(r *http.Request, d *Drive, parent *DriveItem, name string, existing *DriveItem, content []byte) (int, map[string]any) {
	now := s.now().UTC().Truncate(time.Second)
	if existing != nil {
		existing.content, existing.generate, existing.size, existing.Modified = content, nil, int64(len(content)), now
		d.touch(existing)
		d.resize()
		return http.StatusOK, s.itemJSON(r, d, existing)
	}
	it := &DriveItem{ID: d.itemID(d.pathOf(parent) + "/" + name + "|" + newID("")), Name: name, ParentID: parent.ID,
		MimeType: mimeFor(name), Created: now, Modified: now, content: content, size: int64(len(content))}
	d.put(it)
	return http.StatusCreated, s.itemJSON(r, d, it)
}

func (s *Server) simpleUpload(w http.ResponseWriter, r *http.Request, mb *Mailbox, item *DriveItem, missing []string) {
	d := mb.drive
	behavior, e := conflictBehavior(r, "replace")
	if e != nil {
		e.write(w, r)
		return
	}
	if r.ContentLength > maxSimpleUpload {
		WriteError(w, r, http.StatusRequestEntityTooLarge, "requestEntityTooLarge", "The request is larger than the 250 MB a simple upload accepts; use an upload session.")
		return
	}
	parent, name, existing, e := s.uploadTarget(d, item, missing)
	if e != nil {
		e.write(w, r)
		return
	}
	if existing == nil || behavior != "replace" {
		if existing, name, e = placeFile(d, parent, name, behavior); e != nil {
			e.write(w, r)
			return
		}
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSimpleUpload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, r, http.StatusRequestEntityTooLarge, "requestEntityTooLarge", "The request is larger than the 250 MB a simple upload accepts; use an upload session.")
			return
		}
		badRequest("invalidRequest", "The request body could not be read.").write(w, r)
		return
	}
	status, j := s.commitFile(r, d, parent, name, existing, content)
	writeJSON(w, status, j)
}

func (s *Server) createChild(w http.ResponseWriter, r *http.Request, d *Drive, parent *DriveItem) {
	var in struct {
		Name     string         `json:"name"`
		Folder   map[string]any `json:"folder"`
		File     map[string]any `json:"file"`
		Conflict string         `json:"@microsoft.graph.conflictBehavior"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	switch {
	case !parent.IsFolder:
		badRequest("invalidRequest", "The parent is not a folder.").write(w, r)
		return
	case in.Folder == nil:
		badRequest("invalidRequest", "A folder facet is required to create an item here; upload files with PUT .../content.").write(w, r)
		return
	case !validName(in.Name):
		badRequest("invalidRequest", "The provided name contains invalid characters.").write(w, r)
		return
	}
	behavior := in.Conflict
	if behavior == "" {
		behavior = "fail"
	}
	name := in.Name
	if existing := d.child(parent.ID, name); existing != nil {
		switch behavior {
		case "rename":
			name = d.uniqueName(parent.ID, name)
		case "replace":
			d.remove(existing)
		default:
			WriteError(w, r, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
			return
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	it := &DriveItem{ID: d.itemID(d.pathOf(parent) + "/" + name + "|" + newID("")), Name: name, ParentID: parent.ID,
		IsFolder: true, Created: now, Modified: now}
	d.put(it)
	writeJSON(w, http.StatusCreated, s.itemJSON(r, d, it))
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request, d *Drive, it *DriveItem) {
	var in struct {
		Name            *string `json:"name"`
		ParentReference *struct {
			ID   string `json:"id"`
			Path string `json:"path"`
		} `json:"parentReference"`
		Description *string `json:"description"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if it == d.root {
		badRequest("invalidRequest", "The root folder cannot be renamed or moved.").write(w, r)
		return
	}
	name, parent := it.Name, d.items[it.ParentID]
	if in.Name != nil {
		if !validName(*in.Name) {
			badRequest("invalidRequest", "The provided name contains invalid characters.").write(w, r)
			return
		}
		name = *in.Name
	}
	if in.ParentReference != nil {
		switch {
		case in.ParentReference.ID != "":
			parent = d.items[in.ParentReference.ID]
		case in.ParentReference.Path != "":
			// In this drive: /drive/root:/... or /drives/{this drive}/root:/...
			path := in.ParentReference.Path
			if own, ok := strings.CutPrefix(path, "/drives/"+d.ID+"/"); ok {
				path = "/drive/" + own
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(path, "/drive/root:"), "/drive/root")
			var rest []string
			if parent, rest = d.resolve(d.root, rel); len(rest) > 0 {
				parent = nil
			}
		}
		if parent == nil || !parent.IsFolder {
			errDriveNotFound.write(w, r)
			return
		}
		if it.IsFolder && d.isAncestor(it, parent) {
			badRequest("invalidRequest", "A folder cannot be moved into itself or one of its subfolders.").write(w, r)
			return
		}
	}
	if other := d.child(parent.ID, name); other != nil && other != it {
		WriteError(w, r, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
		return
	}
	it.Name, it.ParentID = name, parent.ID
	if !it.IsFolder {
		it.MimeType = mimeFor(name)
	}
	it.Modified = s.now().UTC().Truncate(time.Second)
	d.touch(it)
	d.resize()
	writeJSON(w, http.StatusOK, s.itemJSON(r, d, it))
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, d *Drive, it *DriveItem) {
	if it == d.root {
		WriteError(w, r, http.StatusForbidden, "accessDenied", "The root folder cannot be deleted.")
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != it.etag() && m != "*" {
		WriteError(w, r, http.StatusPreconditionFailed, "resourceModified", "ETag does not match current item's value")
		return
	}
	d.remove(it)
	w.WriteHeader(http.StatusNoContent)
}

// delta serves /me/drive/root/delta. Tokens are change sequence numbers.
func (s *Server) delta(w http.ResponseWriter, r *http.Request, d *Drive) {
	q := r.URL.Query()
	token := q.Get("token")
	var since int64 = -1
	switch token {
	case "":
	case "latest":
		since = d.seq
	default:
		n, err := strconv.ParseInt(token, 10, 64)
		if err != nil || n < d.minToken || n > d.seq {
			WriteError(w, r, http.StatusGone, "resyncRequired", "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.")
			return
		}
		since = n
	}
	lq, e := parseListQuery(r, driveItemType)
	if e != nil {
		e.write(w, r)
		return
	}
	var changes []any
	var items []*DriveItem
	for _, it := range d.items {
		if since < 0 || it.seq > since {
			items = append(items, it)
		}
	}
	// Parents come before their children, as OneDrive sends them.
	depth := func(it *DriveItem) int { return len(splitPath(d.pathOf(it))) }
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && (depth(items[j]) < depth(items[j-1]) || depth(items[j]) == depth(items[j-1]) && items[j].seq < items[j-1].seq); j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
	for _, it := range items {
		changes = append(changes, s.itemJSON(r, d, it))
	}
	if since >= 0 {
		for _, t := range d.tombstones {
			if t.seq > since {
				changes = append(changes, map[string]any{"id": t.id, "deleted": map[string]string{"state": "deleted"},
					"parentReference": map[string]string{"id": t.parentID, "driveId": d.ID, "driveType": d.Type}})
			}
		}
	}
	pageItems, next := page(r, changes, lq, driveItemType)
	extra := map[string]any{}
	if next == "" {
		extra["@odata.deltaLink"] = baseURL(r) + r.URL.Path + "?token=" + strconv.FormatInt(d.seq, 10)
	}
	writeCollection(w, r, "Collection(driveItem)", pageItems, next, nil, extra)
}

// ForceResync makes every delta token issued so far answer 410 resyncRequired.
func (mb *Mailbox) ForceResync() {
	mb.mu.Lock()
	mb.drive.minToken = mb.drive.seq + 1
	mb.drive.seq++
	mb.mu.Unlock()
}
