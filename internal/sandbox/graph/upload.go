package graph

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// uploadChunkUnit is the multiple every chunk but the last must be.
	uploadChunkUnit = 320 << 10
	// maxUploadChunk is the largest chunk one PUT may carry.
	maxUploadChunk = 60 << 20
	uploadTTL      = 15 * time.Minute
	// Attachment upload sessions take files from 3 MB to 150 MB.
	minSessionAttachment = 3 << 20
	maxSessionAttachment = 150 << 20
)

// uploadSession receives a file in ordered chunks, then hands the bytes to
// complete, which runs under the owner's mailbox lock.
type uploadSession struct {
	id       string
	owner    *Mailbox
	total    int64 // -1 until the first chunk declares it
	limit    int64
	data     bytes.Buffer
	expires  time.Time
	complete func(r *http.Request, data []byte) (int, any, *apiError)
}

func (u *uploadSession) status() map[string]any {
	return map[string]any{
		"expirationDateTime": u.expires.UTC().Format(time.RFC3339),
		"nextExpectedRanges": []string{strconv.Itoa(u.data.Len()) + "-"},
	}
}

func (s *Server) openUploadSession(r *http.Request, mb *Mailbox, limit int64, complete func(*http.Request, []byte) (int, any, *apiError)) map[string]any {
	u := &uploadSession{id: newID(""), owner: mb, total: -1, limit: limit, expires: s.now().Add(uploadTTL), complete: complete}
	s.mu.Lock()
	for id, old := range s.uploads {
		if s.now().After(old.expires) {
			delete(s.uploads, id)
		}
	}
	s.uploads[u.id] = u
	s.mu.Unlock()
	st := u.status()
	st["uploadUrl"] = baseURL(r) + "/sandbox-upload/" + u.id + "?tempauth=" + newID("")
	return st
}

func (s *Server) createDriveUploadSession(w http.ResponseWriter, r *http.Request, mb *Mailbox, item *DriveItem, missing []string) {
	d := mb.drive
	var in struct {
		Item struct {
			Conflict    string `json:"@microsoft.graph.conflictBehavior"`
			Name        string `json:"name"`
			Description string `json:"description"`
			FileSize    int64  `json:"fileSize"`
		} `json:"item"`
		DeferCommit bool `json:"deferCommit"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &in) {
		return
	}
	behavior := in.Item.Conflict
	if behavior == "" {
		behavior = "replace"
	}
	if behavior != "fail" && behavior != "replace" && behavior != "rename" {
		badRequest("invalidRequest", "Invalid value '%s' for @microsoft.graph.conflictBehavior.", behavior).write(w, r)
		return
	}
	parent, name, existing, e := s.uploadTarget(d, item, missing)
	if e != nil {
		e.write(w, r)
		return
	}
	if behavior == "fail" && (existing != nil || d.child(parent.ID, name) != nil) {
		WriteError(w, r, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
		return
	}
	parentID := parent.ID
	writeJSON(w, http.StatusOK, s.openUploadSession(r, mb, 250<<30, func(r *http.Request, data []byte) (int, any, *apiError) {
		parent := d.items[parentID]
		if parent == nil {
			return 0, nil, errDriveNotFound
		}
		target, finalName, e := placeFile(d, parent, name, behavior)
		if e != nil {
			return 0, nil, e
		}
		status, j := s.commitFile(r, d, parent, finalName, target, data)
		return status, j, nil
	}))
}

// createAttachmentUploadSession handles POST .../attachments/createUploadSession
// for files of 3 MB to 150 MB.
func (s *Server) createAttachmentUploadSession(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		AttachmentItem struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int64  `json:"size"`
			ContentType    string `json:"contentType"`
			IsInline       bool   `json:"isInline"`
			ContentID      string `json:"contentId"`
		} `json:"AttachmentItem"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	ai := in.AttachmentItem
	switch {
	case ai.Name == "":
		badRequest("ErrorInvalidParameter", "The attachment must have a name.").write(w, r)
		return
	case ai.Size < minSessionAttachment:
		badRequest("ErrorAttachmentSizeShouldNotBeLessThanMinimumSize", "Attachment size must be greater than the minimum size.").write(w, r)
		return
	case ai.Size > maxSessionAttachment:
		badRequest("ErrorAttachmentSizeLimitExceeded", "The attachment exceeds the 150 MB limit.").write(w, r)
		return
	}
	mb.mu.Lock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e == nil && !m.IsDraft {
		e = badRequest("ErrorInvalidOperation", "Attachments can only be added to draft messages.")
	}
	mb.mu.Unlock()
	if e != nil {
		e.write(w, r)
		return
	}
	msgID := m.ID
	writeJSON(w, http.StatusCreated, s.openUploadSession(r, mb, ai.Size, func(r *http.Request, data []byte) (int, any, *apiError) {
		m, e := mb.messageLocked(msgID)
		if e != nil {
			return 0, nil, e
		}
		ctype := ai.ContentType
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a := &Attachment{Name: ai.Name, ContentType: ctype, ContentBytes: data, IsInline: ai.IsInline,
			LastModifiedDateTime: s.now().UTC().Truncate(time.Second)}
		m.Attachments = append(m.Attachments, a)
		m.touch(s.now())
		// Outlook answers the last chunk with 201 and no attachment body.
		return http.StatusCreated, nil, nil
	}))
}

// serveUpload handles PUT (a chunk), GET (status) and DELETE (cancel) on an
// upload URL. Upload URLs are pre-authenticated: a request that also sends an
// Authorization header is refused, as Microsoft warns it may be.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		WriteError(w, r, http.StatusUnauthorized, "unauthenticated", "Upload URLs are pre-authenticated; do not send an Authorization header.")
		return
	}
	s.mu.Lock()
	u, ok := s.uploads[r.PathValue("session")]
	if ok && s.now().After(u.expires) {
		delete(s.uploads, u.id)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		WriteError(w, r, http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired.")
		return
	}
	switch r.Method {
	case http.MethodGet:
		u.owner.mu.RLock()
		st := u.status()
		u.owner.mu.RUnlock()
		writeJSON(w, http.StatusOK, st)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.uploads, u.id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		s.putChunk(w, r, u)
	default:
		methodNotAllowed(w, r)
	}
}

func parseContentRange(h string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	span, tot, found := strings.Cut(rest, "/")
	a, b, found2 := strings.Cut(span, "-")
	if !found || !found2 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start || total <= end {
		return 0, 0, 0, false
	}
	return start, end, total, true
}

func (s *Server) putChunk(w http.ResponseWriter, r *http.Request, u *uploadSession) {
	start, end, total, ok := parseContentRange(r.Header.Get("Content-Range"))
	if !ok {
		badRequest("invalidRequest", "The Content-Range header is missing or malformed; expected 'bytes start-end/total'.").write(w, r)
		return
	}
	n := end - start + 1
	switch {
	case r.ContentLength >= 0 && r.ContentLength != n:
		badRequest("invalidRequest", "Content-Length %d does not match the Content-Range of %d bytes.", r.ContentLength, n).write(w, r)
		return
	case n > maxUploadChunk:
		WriteError(w, r, http.StatusRequestEntityTooLarge, "requestEntityTooLarge", "A fragment must be smaller than 60 MiB.")
		return
	case end+1 < total && n%uploadChunkUnit != 0:
		badRequest("invalidRequest", "Fragments other than the last must be a multiple of 320 KiB (327,680 bytes); this one is %d bytes.", n).write(w, r)
		return
	case total > u.limit:
		WriteError(w, r, http.StatusRequestEntityTooLarge, "requestEntityTooLarge", "The file is larger than this upload session accepts.")
		return
	}
	// Read the chunk before taking the lock; it can be large and slow to arrive.
	chunk, err := io.ReadAll(io.LimitReader(r.Body, n+1))
	if err != nil || int64(len(chunk)) != n {
		badRequest("invalidRequest", "The request body did not carry the %d bytes its Content-Range declares.", n).write(w, r)
		return
	}
	mb := u.owner
	mb.mu.Lock()
	defer mb.mu.Unlock()
	next := int64(u.data.Len())
	switch {
	case u.total >= 0 && total != u.total:
		badRequest("invalidRequest", "The total size %d differs from the %d declared earlier.", total, u.total).write(w, r)
		return
	case start != next:
		WriteError(w, r, http.StatusRequestedRangeNotSatisfiable, "invalidRange",
			fmt.Sprintf("The uploaded fragment does not start at the next expected byte %d.", next))
		return
	}
	u.total = total
	u.data.Write(chunk)
	if int64(u.data.Len()) < total {
		writeJSON(w, http.StatusAccepted, u.status())
		return
	}
	s.mu.Lock()
	delete(s.uploads, u.id)
	s.mu.Unlock()
	status, body, e := u.complete(r, u.data.Bytes())
	if e != nil {
		e.write(w, r)
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}
