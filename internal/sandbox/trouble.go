package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"graphgate/internal/sandbox/graph"
)

// Fault makes matching requests misbehave the way Microsoft's services do.
type Fault struct {
	ID string `json:"id"`
	// Method matches the HTTP method; empty matches any.
	Method string `json:"method,omitempty"`
	// Path is a regular expression matched against the request path.
	Path string `json:"path"`
	// Status answers with this HTTP status and Microsoft's error body for it.
	Status int `json:"status,omitempty"`
	// Code overrides the error code in the body.
	Code string `json:"code,omitempty"`
	// RetryAfter is sent as the Retry-After header, in seconds; it may be
	// fractional, as Graph's sometimes is.
	RetryAfter string `json:"retryAfter,omitempty"`
	// Delay holds the request this long before answering (or passing it on).
	Delay string `json:"delay,omitempty"`
	// Drop closes the connection without an answer: "before" the request is
	// handled, or "after" it was handled (the ambiguous failure).
	Drop string `json:"drop,omitempty"`
	// Times is how many requests it affects; 0 means until removed.
	Times int `json:"times,omitempty"`
	// Hits counts the requests it affected.
	Hits int `json:"hits"`

	re    *regexp.Regexp
	delay time.Duration
}

func (f *Fault) validate() error {
	var err error
	if f.Path == "" {
		return errors.New("path is required: a regular expression for the request path")
	}
	if f.re, err = regexp.Compile(f.Path); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	if f.Delay != "" {
		if f.delay, err = time.ParseDuration(f.Delay); err != nil || f.delay < 0 || f.delay > 5*time.Minute {
			return errors.New("delay must be a Go duration between 0 and 5m, such as 250ms")
		}
	}
	if f.RetryAfter != "" {
		if v, err := strconv.ParseFloat(f.RetryAfter, 64); err != nil || v < 0 {
			return errors.New("retryAfter must be a number of seconds, such as 2 or 0.5")
		}
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return errors.New("status must be an HTTP error status (400-599)")
	}
	if f.Drop != "" && f.Drop != "before" && f.Drop != "after" {
		return errors.New(`drop must be "before" or "after"`)
	}
	if f.Status == 0 && f.Drop == "" && f.delay == 0 {
		return errors.New("a fault needs a status, a drop or a delay")
	}
	if f.Times < 0 {
		return errors.New("times must not be negative")
	}
	f.Method = strings.ToUpper(f.Method)
	return nil
}

// trouble holds the active faults and the request counters.
type trouble struct {
	mu     sync.Mutex
	faults []*Fault
	nextID int
	counts map[string]int
}

func newTrouble() *trouble { return &trouble{counts: map[string]int{}} }

func (t *trouble) add(f *Fault) (*Fault, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	f.ID = "f" + strconv.Itoa(t.nextID)
	f.Hits = 0
	t.faults = append(t.faults, f)
	return f, nil
}

func (t *trouble) list() []Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Fault, 0, len(t.faults))
	for _, f := range t.faults {
		out = append(out, *f)
	}
	return out
}

func (t *trouble) remove(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.ID == id {
			t.faults = append(t.faults[:i], t.faults[i+1:]...)
			return true
		}
	}
	return false
}

func (t *trouble) clear() {
	t.mu.Lock()
	t.faults = nil
	t.mu.Unlock()
}

// match returns the first fault for r and spends one of its times.
func (t *trouble) match(r *http.Request) *Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.Method != "" && f.Method != r.Method || !f.re.MatchString(r.URL.Path) {
			continue
		}
		f.Hits++
		c := *f
		if f.Times > 0 && f.Hits >= f.Times {
			t.faults = append(t.faults[:i], t.faults[i+1:]...)
		}
		return &c
	}
	return nil
}

func (t *trouble) count(key string) {
	t.mu.Lock()
	t.counts[key]++
	t.mu.Unlock()
}

func (t *trouble) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out
}

func (t *trouble) resetCounts() {
	t.mu.Lock()
	t.counts = map[string]int{}
	t.mu.Unlock()
}

// middleware counts every request by route and applies faults.
func (t *trouble) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sandbox/") {
			next.ServeHTTP(w, r) // the control API itself never misbehaves
			return
		}
		f := t.match(r)
		if f != nil && f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f != nil && f.Drop == "before":
			t.count(routeKey(r))
			hangUp(w)
		case f != nil && f.Drop == "after":
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			t.count(routeKey(r))
			hangUp(w)
		case f != nil && f.Status != 0:
			t.count(routeKey(r))
			writeFault(w, r, f)
		default:
			next.ServeHTTP(w, r)
			t.count(routeKey(r))
		}
	})
}

// routeKey names the endpoint: the route pattern when one matched (the mux
// records it on the request), else the method and path.
func routeKey(r *http.Request) string {
	if r.Pattern != "" && r.Pattern != "/v1.0/" {
		if strings.Contains(r.Pattern, " ") {
			return r.Pattern
		}
		return r.Method + " " + r.Pattern
	}
	return r.Method + " " + r.URL.Path
}

// hangUp closes the client's connection without writing a response.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

var graphFaultCodes = map[int]string{
	429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
	503: "ServiceUnavailable", 504: "GatewayTimeout",
}

// writeFault answers with Microsoft's error shape for the endpoint: Graph's
// error object under /v1.0, the identity platform's elsewhere.
func writeFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		code := f.Code
		if code == "" {
			code = graphFaultCodes[f.Status]
		}
		if code == "" {
			code = "generalException"
		}
		msg := http.StatusText(f.Status)
		if f.Status == 429 {
			msg = "Too many requests. Please retry after the time given in the Retry-After header."
		}
		graph.WriteError(w, r, f.Status, code, msg)
		return
	}
	code := f.Code
	if code == "" {
		code = "temporarily_unavailable"
		if f.Status == 500 {
			code = "server_error"
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_description": "AADSTS90033: A transient error has occurred. Please try again.",
		"error_codes":       []int{90033},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}
