package graphapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzReadError: any error answer from Graph decodes into an Error with a
// code and a Retry-After that is neither negative nor absurd.
func FuzzReadError(f *testing.F) {
	f.Add(429, `{"error":{"code":"TooManyRequests","message":"slow down"}}`, "2.128")
	f.Add(503, `not json`, "")
	f.Add(404, `{"error":{"code":"ErrorItemNotFound","message":"x","innerError":{}}}`, "1e308")
	f.Add(429, `{"error":`, "Inf")
	f.Add(429, `{}`, "-1")
	f.Add(500, strings.Repeat("x", 70000), "NaN")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		if retryAfter != "" {
			resp.Header.Set("Retry-After", retryAfter)
		}
		e := readError(resp, "crid")
		if e.Code == "" && http.StatusText(status) != "" {
			t.Fatal("no code")
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("Retry-After %q became %v", retryAfter, e.RetryAfter)
		}
	})
}

func TestRetryAfterBounds(t *testing.T) {
	for in, want := range map[string]time.Duration{"2.128": 2128 * time.Millisecond, "0": 0, "-1": 0, "NaN": 0, "Inf": maxRetryAfter,
		"1e308": maxRetryAfter, "": 0, "soon": 0, "120": 2 * time.Minute} {
		if got := parseRetryAfter(in); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
