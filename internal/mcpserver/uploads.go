package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/graphapi"
)

const (
	// UploadPath is where one-time upload links are served.
	UploadPath = "/api/v1/uploads/"
	uploadTTL  = 30 * time.Minute
	// chunkSize is what one PUT to the upload session carries: a multiple
	// of 320 KiB, as Graph requires, and the only buffer an upload holds.
	chunkSize = 10 * 320 << 10
	// maxUpload is OneDrive's file size limit.
	maxUpload = 250 << 30
	// Outlook's attachment upload sessions take 3 MB to 150 MB.
	minLargeAttachment = 3 << 20
	maxLargeAttachment = 150 << 20
	// uploadTime is how long one upload may take once it has started.
	uploadTime = 6 * time.Hour
	// pendingSendTTL is how long a draft waits for its large attachments
	// before it is no longer sent on its own: every link's time, and the
	// time the last upload may take.
	pendingSendTTL = uploadTTL + uploadTime
)

// uploadLink stores a one-time link a client PUTs a file to, for the person
// running the tool; like a download link it ends early when the agent token
// that made it is revoked or the person unlinks. u says where the bytes go:
// a OneDrive path, or (with AttachmentName) a draft.
func (s *Server) uploadLink(ctx context.Context, u graphgate.Upload) (string, time.Time, error) {
	c := callerFromContext(ctx)
	if c == nil {
		return "", time.Time{}, errors.New("no caller")
	}
	token := apitoken.Random() // the link itself: 43 characters
	u.TokenHash, u.UserID, u.TokenID, u.GrantID = apitoken.Hash(token), c.user.ID, c.access.TokenID(), c.access.GrantID()
	u.ExpiresAt = s.d.Now().Add(uploadTTL).UTC()
	if err := s.d.Store.CreateUpload(ctx, &u); err != nil {
		return "", time.Time{}, err
	}
	return s.d.BaseURL + UploadPath + token, u.ExpiresAt, nil
}

// serveUpload streams a PUT body into a Graph upload session chunk by chunk,
// so memory stays at one chunk whatever the file's size.
//
// Nothing but the link authenticates the client, so the body is read only
// after the link checks out: until then the server's usual read deadline
// holds, and a refusal closes the connection instead of draining the body.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	refuse := func(msg string, status int) {
		w.Header().Set("Connection", "close")
		http.Error(w, msg, status)
		// Read nothing more: the server would otherwise drain the body.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	token := r.PathValue("token")
	if len(token) != 43 {
		refuse("This upload link is not valid.", http.StatusNotFound)
		return
	}
	total := r.ContentLength
	switch {
	case total < 0:
		refuse("Send the file with a Content-Length.", http.StatusLengthRequired)
		return
	case total == 0:
		refuse("The file is empty; use upload_file with text for empty files.", http.StatusBadRequest)
		return
	case total > maxUpload:
		refuse("Files over 250 GB cannot be uploaded to OneDrive.", http.StatusRequestEntityTooLarge)
		return
	}
	sizeFits := func(u *graphgate.Upload) bool {
		return u.AttachmentName == "" || total >= minLargeAttachment && total <= maxLargeAttachment
	}
	const wrongSize = "Outlook takes attachments of 3 MB to 150 MB through an upload link; attach smaller files inline, in attachments."
	// A file of the wrong size for its link is refused without spending
	// the link: the right file can still come.
	if u, err := s.d.Store.Upload(r.Context(), apitoken.Hash(token)); err == nil && !sizeFits(u) {
		refuse(wrongSize+" This link still takes a file of the right size.", http.StatusRequestEntityTooLarge)
		return
	}
	u, err := s.d.Store.ConsumeUpload(r.Context(), apitoken.Hash(token))
	if err != nil {
		refuse("This upload link has expired or was already used.", http.StatusNotFound)
		return
	}
	if !sizeFits(u) { // only if the link could not be read before
		refuse(wrongSize, http.StatusRequestEntityTooLarge)
		return
	}
	attachment := u.AttachmentName != ""
	if _, err := s.d.Tokens.AccessToken(r.Context(), u.UserID); err != nil {
		refuse(s.linkProblem(err).Error(), http.StatusForbidden)
		return
	}
	if attachment && (!s.mayStillOpen(r.Context(), u.UserID, u.Target, "update_draft") ||
		u.SendID != "" && !s.mayStillOpen(r.Context(), u.UserID, u.Target, "send_message")) ||
		!attachment && !s.mayStillOpen(r.Context(), u.UserID, u.Target, "upload_file") {
		refuse("This link puts a file in a shared mailbox or a SharePoint library, which your agents may no longer open.", http.StatusForbidden)
		return
	}
	// A large file takes longer than the server's usual read deadline.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	g, err := s.graphFor(u.UserID, "")
	if err != nil {
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	var session struct {
		UploadURL string `json:"uploadUrl"`
	}
	create := graphapi.Request{Method: "POST", Path: u.Target + "/createUploadSession",
		Body: map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": u.Conflict}}}
	if attachment {
		create = graphapi.Request{Method: "POST", Path: u.Target + "/attachments/createUploadSession",
			Body: map[string]any{"AttachmentItem": map[string]any{"attachmentType": "file", "name": u.AttachmentName, "size": total, "contentType": u.ContentType}}}
	}
	if _, err := g.Do(r.Context(), create, &session); err != nil {
		http.Error(w, graphProblem(err).Error(), http.StatusBadGateway)
		return
	}
	done, err := s.pushChunks(r.Context(), session.UploadURL, r.Body, total)
	if err != nil {
		s.d.Log.Warn("upload failed", "err", err)
		// An unfinished session expires on its own; say what happened.
		msg := "The upload did not complete: " + err.Error()
		if u.SendID != "" {
			msg += ". The message was not sent: it waits in Drafts; update_draft gives a new upload link, send_draft sends it."
		}
		http.Error(w, msg, http.StatusBadGateway)
		return
	}
	var out any = map[string]any{"attached": u.AttachmentName, "size": total,
		"message": "Attached to the draft; send it with send_draft."}
	if u.SendID != "" {
		status, answer := s.finishSend(r.Context(), g, u)
		answer["attached"], answer["size"] = u.AttachmentName, total
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(answer)
		return
	}
	if !attachment {
		// OneDrive answers the last chunk with the new item.
		var it gItem
		if err := json.Unmarshal(done, &it); err != nil {
			http.Error(w, "The upload completed but OneDrive's answer was unreadable.", http.StatusBadGateway)
			return
		}
		out = toItem(it)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out)
}

// finishSend counts an arrived attachment of a send_message that waits for
// its large attachments, and sends the draft when it was the last: exactly
// one upload sees the count reach zero, on whichever replica.
func (s *Server) finishSend(ctx context.Context, g *graphapi.Client, u *graphgate.Upload) (int, map[string]any) {
	send, err := s.d.Store.UploadArrived(ctx, u.SendID)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return http.StatusCreated, map[string]any{"sent": false,
			"message": "Attached to the draft, but it is no longer sent on its own (its time ran out, or the access that asked for it ended); send it with send_draft."}
	case err != nil:
		s.d.Log.Error("counting an arrived attachment", "err", err)
		return http.StatusCreated, map[string]any{"sent": false,
			"message": "Attached to the draft, but graphgate could not tell whether it was the last one (its database did not answer); the message was not sent: check Drafts, then send_draft."}
	case send.Remaining > 0:
		return http.StatusCreated, map[string]any{"sent": false,
			"message": fmt.Sprintf("Attached. The message is sent when the other %d attachment(s) have arrived.", send.Remaining)}
	}
	start := s.d.Now()
	_, err = g.Do(context.WithoutCancel(ctx), graphapi.Request{Method: "POST", Path: send.Target + "/send"}, nil)
	s.auditSend(ctx, send, g, start, err)
	if err != nil {
		return http.StatusBadGateway, map[string]any{"sent": false,
			"message": "Every attachment arrived, but sending failed: " + graphProblem(err).Error() + " The message is in Drafts; check Sent Items before send_draft."}
	}
	return http.StatusCreated, map[string]any{"sent": true, "message": "Every attachment arrived: the message was sent. A copy is in Sent Items."}
}

// auditSend records the send that the last upload made as the tool call it
// finishes: send_message, for the person and the token that asked.
func (s *Server) auditSend(ctx context.Context, send *graphgate.PendingSend, g *graphapi.Client, start time.Time, err error) {
	u, uerr := s.d.Store.UserByID(ctx, send.UserID)
	if uerr != nil {
		s.d.Log.Error("auditing a send after uploads", "err", uerr)
		return
	}
	s.audit(ctx, u, "send_message", g, map[string]string{"outcome": outcomeOf(err), "after": "uploads", "token": send.Label,
		"duration_ms": strconv.FormatInt(s.d.Now().Sub(start).Milliseconds(), 10)})
}

// pushChunks sends body to an upload session and returns the answer to the
// last chunk (OneDrive's new item; nothing from Outlook). The upload URL is
// pre-authenticated: it gets no Authorization header.
func (s *Server) pushChunks(ctx context.Context, uploadURL string, body io.Reader, total int64) ([]byte, error) {
	if err := s.checkUploadURL(uploadURL); err != nil {
		return nil, err
	}
	buf := make([]byte, chunkSize)
	for start := int64(0); start < total; {
		n, err := io.ReadFull(body, buf[:min(int64(chunkSize), total-start)])
		if err != nil {
			return nil, fmt.Errorf("reading the file at byte %d: %w", start+int64(n), err)
		}
		end := start + int64(n) - 1
		var resp *http.Response
		for attempt := 0; ; attempt++ {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, bytes.NewReader(buf[:n]))
			if err != nil {
				return nil, err
			}
			req.ContentLength = int64(n)
			req.Header.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(total, 10))
			resp, err = s.d.HTTP.Do(req)
			// A chunk is safe to send again: the session keeps its place.
			if err == nil && resp.StatusCode < 500 || attempt == 3 {
				if err != nil {
					return nil, err
				}
				break
			}
			if resp != nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
			}
		}
		switch {
		case resp.StatusCode == http.StatusAccepted:
			resp.Body.Close()
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
			defer resp.Body.Close()
			return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		default:
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, tell("Microsoft 365 refused bytes %d-%d: %d %s", start, end, resp.StatusCode, msg)
		}
		start = end + 1
	}
	return nil, tell("Microsoft 365 did not confirm the finished upload")
}

// checkUploadURL keeps chunk uploads on https, or on the configured Graph
// host when that is plain http (the sandbox).
func (s *Server) checkUploadURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return tell("Microsoft Graph gave an unusable upload URL")
	}
	g, _ := url.Parse(s.d.GraphURL)
	if u.Scheme != "https" && u.Host != g.Host {
		return tell("Microsoft Graph gave an upload URL that is not https")
	}
	return nil
}
