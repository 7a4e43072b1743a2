package mcpserver

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/graphapi"
)

// downloadTTL is how long a one-time download link works.
const downloadTTL = 15 * time.Minute

// DownloadPath is where one-time download links are served.
const DownloadPath = "/api/v1/downloads/"

// downloadLink stores a one-time link to bytes at a Graph path, for the
// person running the tool, and returns its URL. The link is the credential:
// it works once, for 15 minutes, and ends early when the agent token that
// made it is revoked or the person unlinks.
func (s *Server) downloadLink(ctx context.Context, source, name, contentType string) (string, time.Time, error) {
	c := callerFromContext(ctx)
	if c == nil {
		return "", time.Time{}, errors.New("no caller")
	}
	token := apitoken.Random() // the link itself: 43 characters
	expires := s.d.Now().Add(downloadTTL).UTC()
	if err := s.d.Store.CreateDownload(ctx, &graphgate.Download{TokenHash: apitoken.Hash(token), UserID: c.user.ID, TokenID: c.access.TokenID(), GrantID: c.access.GrantID(), Source: source,
		Name: name, ContentType: contentType, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	return s.d.BaseURL + DownloadPath + token, expires, nil
}

// mayStillOpen says whether a one-time link to path, made by tool for a
// person, may still be used: a link into another mailbox or a SharePoint
// library works only while the capability that opened it still does.
func (s *Server) mayStillOpen(ctx context.Context, userID int64, path, tool string) bool {
	param, elsewhere := placeParam(tool, path)
	if !elsewhere {
		return true
	}
	reach, err := s.d.Store.Reach(ctx, userID)
	return err == nil && reach.OpensParam(tool, param)
}

// serveDownload streams a one-time download from Graph to the client,
// without holding the file in memory.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if len(token) != 43 {
		http.Error(w, "This download link is not valid.", http.StatusNotFound)
		return
	}
	d, err := s.d.Store.ConsumeDownload(r.Context(), apitoken.Hash(token))
	if err != nil {
		http.Error(w, "This download link has expired or was already used.", http.StatusNotFound)
		return
	}
	if _, err := s.d.Tokens.AccessToken(r.Context(), d.UserID); err != nil {
		http.Error(w, s.linkProblem(err).Error(), http.StatusForbidden)
		return
	}
	tool := "get_attachment"
	if !strings.Contains(d.Source, "/messages/") {
		tool = "read_file"
	}
	if !s.mayStillOpen(r.Context(), d.UserID, d.Source, tool) {
		http.Error(w, "This link opens a shared mailbox or a SharePoint library, which your agents may no longer open.", http.StatusForbidden)
		return
	}
	g, err := s.graphFor(d.UserID, "")
	if err != nil {
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Name}))
	w.Header().Set("Cache-Control", "no-store")
	sw := &startWriter{w: w}
	if _, err := g.Do(r.Context(), graphapi.Request{Method: "GET", Path: d.Source, Safe: true}, sw); err != nil && !sw.started {
		w.Header().Del("Content-Disposition")
		http.Error(w, graphProblem(err).Error(), http.StatusBadGateway)
	}
}

// startWriter notes whether any byte reached the client.
type startWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}
