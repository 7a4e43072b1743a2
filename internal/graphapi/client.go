// Package graphapi is a small typed client for the Microsoft Graph endpoints
// graphgate calls: deadlines from the context, a client-request-id on every
// request, Graph's error shape as a typed error, 429 honoured with its
// Retry-After (fractional too) within a bounded budget, bounded backoff on
// 503/504 and network errors for requests that are safe to repeat, one token
// refresh and retry on 401, and paging links that can never point away from
// the configured Graph URL.
package graphapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TokenFunc returns an access token for the caller; refresh asks for a new
// one after Graph refused the last. A client sending requests at once calls
// it at once: it must be safe for concurrent use.
type TokenFunc func(ctx context.Context, refresh bool) (string, error)

// Client calls Graph for one person.
type Client struct {
	base  *url.URL // https://graph.microsoft.com/v1.0/
	http  *http.Client
	token TokenFunc
	log   *slog.Logger
	// Retries is how many times a request is repeated at most.
	Retries int
	// WaitBudget bounds the total time spent waiting to retry one request.
	WaitBudget time.Duration
	// Observe, when set, hears "retry" and "throttled" events.
	Observe func(event string)
	// Tracer makes a span of each request (see traceRoute); no-op unless set.
	Tracer trace.Tracer
	sleep  func(ctx context.Context, d time.Duration) error
	// Mailbox, when set, is the address of another mailbox (a shared one,
	// or a calendar shared with the person) that the mail and calendar
	// paths under me/ are sent to instead: users/{address}/...
	Mailbox string
	// Drive, when set, is a SharePoint document library (drives/{id} or
	// sites/{site}/drive) that the OneDrive paths under me/drive are sent
	// to instead.
	Drive string
	// requestIDs are Graph's request-ids of every answer this client got,
	// for the audit log.
	mu         sync.Mutex
	requestIDs []string
}

// mailboxPaths are the me/ paths that Mailbox redirects: mail and calendar.
var mailboxPaths = []string{"me/messages", "me/mailFolders", "me/events", "me/calendar"}

// Routed is the path a request for p goes to: another mailbox's, when
// Mailbox is set and p is one of its mail or calendar paths; a library's,
// when Drive is set and p is a OneDrive path. A path kept for later (a
// download link, a cursor's scope) is kept routed.
func (c *Client) Routed(p string) string {
	if c.Drive != "" && (p == "me/drive" || strings.HasPrefix(p, "me/drive/")) {
		return c.Drive + strings.TrimPrefix(p, "me/drive")
	}
	if c.Mailbox == "" {
		return p
	}
	for _, prefix := range mailboxPaths {
		if strings.HasPrefix(p, prefix) {
			return "users/" + url.PathEscape(c.Mailbox) + strings.TrimPrefix(p, "me")
		}
	}
	return p
}

// RequestIDs returns the request-id of every answer so far.
func (c *Client) RequestIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.requestIDs...)
}

// New returns a client for the Graph base URL (such as
// https://graph.microsoft.com), version v1.0.
func New(graphURL string, httpClient *http.Client, token TokenFunc, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(graphURL, "/") + "/v1.0/")
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graphapi: bad Graph URL %q", graphURL)
	}
	if httpClient == nil {
		httpClient = NewHTTPClient()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{base: u, http: httpClient, token: token, log: log, Retries: 3, WaitBudget: 30 * time.Second, sleep: sleepCtx,
		Tracer: noop.NewTracerProvider().Tracer("")}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Error is Graph's error answer.
type Error struct {
	Status          int
	Code            string
	Message         string
	RequestID       string
	ClientRequestID string
	RetryAfter      time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: %d %s: %s (request-id %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// IsNotFound reports whether err is Graph's "not found".
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// ErrAmbiguous wraps a failure after which Graph may or may not have acted
// (the connection dropped after a send, say): it is never retried.
var ErrAmbiguous = errors.New("graph: the request may or may not have been carried out")

// Request is one Graph call.
type Request struct {
	Method string
	// Path is relative to /v1.0/ ("me/messages"), or an absolute nextLink,
	// which must point into the configured Graph URL.
	Path   string
	Query  url.Values
	Body   any // JSON-encoded when not nil and not an io.Reader
	Header http.Header
	// Safe marks a request that can be repeated after a 503, a 504 or a
	// network error: reads, PATCH, DELETE, PUT. A send never is.
	Safe bool
	// Own keeps the request on the person's own mailbox whatever the
	// client's Mailbox says (their time zone, say).
	Own bool
}

// Response is a completed call.
type Response struct {
	Status          int
	Header          http.Header
	RequestID       string
	ClientRequestID string
}

// Resolve is the URL a request for path would go to, or the error that
// refuses it; for tests of code that builds paths.
func Resolve(c *Client, path string) (*url.URL, error) { return c.resolve(path, nil) }

// resolve turns a path or link into a URL inside the Graph base, refusing
// anything else: a cursor must never send the token elsewhere.
func (c *Client) resolve(path string, q url.Values) (*url.URL, error) {
	var u *url.URL
	if strings.Contains(path, "://") {
		parsed, err := url.Parse(path)
		if err != nil || parsed.Scheme != c.base.Scheme || parsed.Host != c.base.Host || !strings.HasPrefix(parsed.Path, c.base.Path) ||
			parsed.User != nil {
			return nil, fmt.Errorf("graphapi: refusing a link outside %s", c.base)
		}
		u = parsed
	} else {
		ref, err := url.Parse(strings.TrimPrefix(path, "/"))
		if err != nil || ref.IsAbs() || ref.Host != "" {
			return nil, fmt.Errorf("graphapi: bad path %q", path)
		}
		// Join rather than resolve: resolving would remove dot segments
		// before they can be refused.
		joined := *c.base
		u = &joined
		u.Path, u.RawPath = c.base.Path+ref.Path, c.base.EscapedPath()+ref.EscapedPath()
		if u.RawPath == u.Path {
			u.RawPath = ""
		}
		u.RawQuery = ref.RawQuery
	}
	// "." and ".." segments, plain or encoded, would climb out of the
	// resource a tool meant to reach (me/messages/.. is me/).
	for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." {
			return nil, fmt.Errorf("graphapi: refusing a path with a dot segment: %q", path)
		}
	}
	if len(q) > 0 {
		merged := u.Query()
		for k, v := range q {
			merged[k] = v
		}
		u.RawQuery = strings.ReplaceAll(merged.Encode(), "%24", "$")
	}
	return u, nil
}

// Do performs the request and decodes a JSON answer into out (when not nil).
func (c *Client) Do(ctx context.Context, req Request, out any) (res *Response, err error) {
	p := req.Path
	if !req.Own {
		p = c.Routed(p)
	}
	ctx, span := c.Tracer.Start(ctx, "graph "+req.Method+" "+traceRoute(p), trace.WithSpanKind(trace.SpanKindClient))
	var attempt int
	var waited, throttled time.Duration
	defer func() {
		if span.IsRecording() {
			span.SetAttributes(attribute.String("http.request.method", req.Method), attribute.Int("graph.retries", attempt),
				attribute.Int64("graph.throttled_ms", throttled.Milliseconds()), attribute.Int64("graph.waited_ms", waited.Milliseconds()))
			if res != nil {
				span.SetAttributes(attribute.Int("http.response.status_code", res.Status), attribute.String("graph.request_id", res.RequestID),
					attribute.String("graph.client_request_id", res.ClientRequestID))
			}
			if err != nil {
				span.SetStatus(codes.Error, "")
			}
		}
		span.End()
	}()
	u, err := c.resolve(p, req.Query)
	if err != nil {
		return nil, err
	}
	var body []byte
	var bodyReader io.Reader
	switch b := req.Body.(type) {
	case nil:
	case io.Reader:
		bodyReader = b
	default:
		if body, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	if bodyReader != nil {
		req.Safe = false // a stream cannot be sent twice
	}
	crid := uuid.NewString()
	refreshed, refreshNow := false, false
	for ; ; attempt++ {
		tok, err := c.token(ctx, refreshNow)
		refreshNow = false
		if err != nil {
			return nil, err
		}
		rd := bodyReader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		for k, v := range req.Header {
			hr.Header[k] = v
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
		hr.Header.Set("client-request-id", crid)
		hr.Header.Set("Accept", "application/json")
		if body != nil {
			hr.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(hr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !req.Safe {
				c.log.WarnContext(ctx, "graph request failed; not repeating an unsafe request", "method", req.Method, "client_request_id", crid, "err", err)
				return nil, fmt.Errorf("%w: %v", ErrAmbiguous, err)
			}
			if d, ok := c.backoff(attempt, 0, &waited); ok {
				c.event("retry")
				if err := c.sleep(ctx, d); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		r := &Response{Status: resp.StatusCode, Header: resp.Header, RequestID: resp.Header.Get("request-id"), ClientRequestID: crid}
		if r.RequestID != "" {
			c.mu.Lock()
			c.requestIDs = append(c.requestIDs, r.RequestID)
			c.mu.Unlock()
		}
		if resp.StatusCode < 400 {
			err := decode(resp, out)
			c.log.DebugContext(ctx, "graph", "method", req.Method, "status", resp.StatusCode, "request_id", r.RequestID, "client_request_id", crid)
			return r, err
		}
		gerr := readError(resp, crid)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed:
			refreshed, refreshNow = true, true // one new token, one more try
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			// Throttled requests were not carried out: any may be repeated.
			c.event("throttled")
			if d, ok := c.backoff(attempt, gerr.RetryAfter, &waited); ok {
				throttled += d
				c.log.InfoContext(ctx, "graph throttled", "retry_after", d, "client_request_id", crid)
				if err := c.sleep(ctx, d); err != nil {
					return nil, err
				}
				continue
			}
		case (resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout) && req.Safe:
			if d, ok := c.backoff(attempt, gerr.RetryAfter, &waited); ok {
				c.event("retry")
				if err := c.sleep(ctx, d); err != nil {
					return nil, err
				}
				continue
			}
		}
		c.log.InfoContext(ctx, "graph error", "method", req.Method, "status", gerr.Status, "code", gerr.Code, "request_id", gerr.RequestID, "client_request_id", crid)
		return r, gerr
	}
}

func (c *Client) event(name string) {
	if c.Observe != nil {
		c.Observe(name)
	}
}

// backoff decides how long to wait before attempt+1, honouring Retry-After,
// within the retry count and the wait budget.
func (c *Client) backoff(attempt int, retryAfter time.Duration, waited *time.Duration) (time.Duration, bool) {
	if attempt >= c.Retries {
		return 0, false
	}
	d := retryAfter
	if d <= 0 {
		base := 200 * time.Millisecond << attempt
		d = base/2 + time.Duration(rand.Int64N(int64(base)))
	}
	if *waited+d > c.WaitBudget {
		return 0, false
	}
	*waited += d
	return d, true
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusAccepted {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func readError(resp *http.Response, crid string) *Error {
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &body)
	e := &Error{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message,
		RequestID: resp.Header.Get("request-id"), ClientRequestID: crid}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	return e
}

// maxRetryAfter caps what a Retry-After can ask for: Graph sends seconds,
// sometimes fractional; a huge or infinite value must not overflow.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After in seconds; 0 when absent or unusable.
func parseRetryAfter(v string) time.Duration {
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), secs != secs, secs <= 0:
		return 0
	case secs >= maxRetryAfter.Seconds():
		return maxRetryAfter
	}
	return time.Duration(secs * float64(time.Second))
}

// traceRoute is a Graph path as a span names it: its fixed words, each id
// as {id}, and nothing after a colon (a file's path under root:...:), so
// that no one's ids, file names or search words reach a trace.
func traceRoute(p string) string {
	p, _, cut := strings.Cut(p, ":")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range parts {
		if !graphWord.MatchString(seg) {
			parts[i] = "{id}"
		}
	}
	route := strings.Join(parts, "/")
	if cut {
		route += ":{path}"
	}
	return route
}

// graphWord is a path segment that is one of Graph's words (messages,
// mailFolders, microsoft.graph.delta), not an id.
var graphWord = regexp.MustCompile(`^[a-zA-Z][a-zA-Z.]{0,39}$`)
