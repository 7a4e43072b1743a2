package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"

	"graphgate/internal/sandbox/graph"
)

// maxBatch is Graph's limit on requests in one JSON batch.
const maxBatch = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// batch serves POST /v1.0/$batch. Each request runs through the whole
// sandbox, faults included, so one item can be throttled while the others
// succeed; there is no atomicity. Items run in order; an item whose
// dependency failed answers 424.
func (sb *Sandbox) batch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		graph.WriteError(w, r, http.StatusMethodNotAllowed, "BadRequest", "Only POST is allowed on $batch.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.Header().Set("WWW-Authenticate", `Bearer realm=""`)
		graph.WriteError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	var in struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&in); err != nil {
		graph.WriteError(w, r, http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	if len(in.Requests) == 0 || len(in.Requests) > maxBatch {
		graph.WriteError(w, r, http.StatusBadRequest, "BadRequest", "The number of requests in a batch must be between 1 and 20.")
		return
	}
	seen := map[string]bool{}
	for _, br := range in.Requests {
		if br.ID == "" || seen[br.ID] || br.Method == "" || br.URL == "" {
			graph.WriteError(w, r, http.StatusBadRequest, "BadRequest", "Each batch request needs a unique id, a method and a url.")
			return
		}
		seen[br.ID] = true
	}
	status := map[string]int{}
	out := make([]batchResponse, 0, len(in.Requests))
	for _, br := range in.Requests {
		failed := ""
		for _, dep := range br.DependsOn {
			if s, ok := status[dep]; !ok || s >= 400 {
				failed = dep
			}
		}
		var resp batchResponse
		if failed != "" {
			resp = batchResponse{ID: br.ID, Status: http.StatusFailedDependency, Body: map[string]any{"error": map[string]string{
				"code": "FailedDependency", "message": "The request depends on request " + failed + ", which failed or did not run."}}}
		} else {
			resp = sb.runBatchItem(r, br)
		}
		status[br.ID] = resp.Status
		out = append(out, resp)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"responses": out})
}

func (sb *Sandbox) runBatchItem(outer *http.Request, br batchRequest) (resp batchResponse) {
	resp.ID = br.ID
	target := "/v1.0/" + strings.TrimPrefix(br.URL, "/")
	var body *bytes.Reader
	if len(br.Body) > 0 && string(br.Body) != "null" {
		body = bytes.NewReader(br.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	req := httptest.NewRequestWithContext(outer.Context(), strings.ToUpper(br.Method), target, body)
	req.Host = outer.Host
	req.Header.Set("Authorization", outer.Header.Get("Authorization"))
	if body.Len() > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range br.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	defer func() {
		// A dropped connection inside a batch surfaces as a gateway timeout
		// for that item alone.
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			resp.Status = http.StatusGatewayTimeout
			resp.Body = map[string]any{"error": map[string]string{"code": "GatewayTimeout", "message": "The request timed out."}}
		}
	}()
	sb.handler.ServeHTTP(rec, req)
	resp.Status = rec.Code
	resp.Headers = map[string]string{}
	for _, h := range []string{"Content-Type", "Location", "Retry-After", "request-id", "client-request-id", "Preference-Applied"} {
		if v := rec.Header().Get(h); v != "" {
			resp.Headers[h] = v
		}
	}
	raw := rec.Body.Bytes()
	switch {
	case len(raw) == 0:
	case json.Valid(raw):
		resp.Body = json.RawMessage(raw)
	default:
		resp.Body = base64.StdEncoding.EncodeToString(raw)
	}
	return resp
}
