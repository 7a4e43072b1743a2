package sandbox_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"graphgate/internal/sandbox"
)

func TestFaultStatuses(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	for _, tc := range []struct {
		status     int
		retryAfter string
		code       string
	}{
		{429, "2.128", "TooManyRequests"},
		{500, "", "InternalServerError"},
		{503, "1", "ServiceUnavailable"},
		{504, "", "GatewayTimeout"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			status, out := tn.control("POST", "/sandbox/faults", map[string]any{"method": "GET", "path": "^/v1.0/me/messages$",
				"status": tc.status, "retryAfter": tc.retryAfter, "times": 2})
			if status != 201 || out["id"] == "" {
				t.Fatalf("add fault: %d %v", status, out)
			}
			for range 2 {
				var ge graphError
				resp := tn.graph(tok, "GET", "/me/messages", nil, &ge)
				if resp.StatusCode != tc.status || ge.Error.Code != tc.code || resp.Header.Get("Retry-After") != tc.retryAfter {
					t.Fatalf("got %d %q Retry-After %q", resp.StatusCode, ge.Error.Code, resp.Header.Get("Retry-After"))
				}
			}
			// times: 2 spent, the third request goes through; other routes never failed.
			if resp := tn.graph(tok, "GET", "/me/messages", nil, nil); resp.StatusCode != 200 {
				t.Fatalf("after the fault ran out: %d", resp.StatusCode)
			}
		})
	}
	if resp := tn.graph(tok, "GET", "/me/mailFolders", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("unmatched route: %d", resp.StatusCode)
	}
}

func TestFaultOnTokenEndpoint(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test")
	tn.control("POST", "/sandbox/faults", map[string]any{"path": "/oauth2/v2.0/token$", "status": 503, "retryAfter": "0.5", "times": 1})
	status, te, _ := tn.postToken("common", refreshForm(tok.RefreshToken))
	if status != 503 || te.Error != "temporarily_unavailable" {
		t.Fatalf("token fault: %d %+v", status, te)
	}
	if status, _, _ := tn.postToken("common", refreshForm(tok.RefreshToken)); status != 200 {
		t.Fatalf("after fault: %d", status)
	}
}

func TestFaultDelayAndDrop(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken

	// Delay: the request is held, then answered normally. A client deadline
	// shorter than the delay times out.
	tn.control("POST", "/sandbox/faults", map[string]any{"path": "^/v1.0/me$", "delay": "2s", "times": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tn.URL+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a delayed request beat a shorter client deadline")
	}
	tn.control("POST", "/sandbox/faults", map[string]any{"path": "^/v1.0/me$", "delay": "100ms", "times": 1})
	began := time.Now()
	if resp := tn.graph(tok, "GET", "/me", nil, nil); resp.StatusCode != 200 || time.Since(began) < 100*time.Millisecond {
		t.Fatalf("delayed request: %d after %v", resp.StatusCode, time.Since(began))
	}

	// Drop before: no answer, nothing done.
	tn.control("POST", "/sandbox/faults", map[string]any{"method": "POST", "path": "^/v1.0/me/sendMail$", "drop": "before", "times": 1})
	if err := sendMailRaw(tn, tok, "dropped before"); err == nil {
		t.Fatal("drop before: got an answer")
	}
	if n := countSubject(tn, tn.link("sam@fabrikam.test").AccessToken, "dropped before"); n != 0 {
		t.Fatalf("drop before delivered %d copies", n)
	}

	// Drop after: no answer, but the mail went out: the ambiguous failure a
	// client must never answer with a second send.
	tn.control("POST", "/sandbox/faults", map[string]any{"method": "POST", "path": "^/v1.0/me/sendMail$", "drop": "after", "times": 1})
	if err := sendMailRaw(tn, tok, "dropped after"); err == nil {
		t.Fatal("drop after: got an answer")
	}
	if n := countSubject(tn, tn.link("sam@fabrikam.test").AccessToken, "dropped after"); n != 1 {
		t.Fatalf("drop after delivered %d copies, want 1", n)
	}
}

func sendMailRaw(tn *tenant, tok, subject string) error {
	body := `{"message":{"subject":"` + subject + `","toRecipients":[{"emailAddress":{"address":"sam@fabrikam.test"}}]}}`
	req, _ := http.NewRequest("POST", tn.URL+"/v1.0/me/sendMail", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func countSubject(tn *tenant, tok, subject string) int {
	var p messagePage
	tn.graph(tok, "GET", "/me/mailFolders/inbox/messages?$filter="+url.QueryEscape("subject eq '"+subject+"'"), nil, &p)
	return len(p.Value)
}

func TestRequestCounts(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test")
	tn.sb.ResetRequests()
	for range 3 {
		tn.postToken("common", refreshForm(tok.RefreshToken))
	}
	tn.graph(tok.AccessToken, "GET", "/me/messages", nil, nil)
	tn.graph(tok.AccessToken, "GET", "/me/messages", nil, nil)
	_, out := tn.control("GET", "/sandbox/requests", nil)
	counts := out["requests"].(map[string]any)
	if counts["POST /{tenant}/oauth2/v2.0/token"] != 3.0 || counts["grant_type=refresh_token"] != 3.0 || counts["GET /v1.0/me/messages"] != 2.0 {
		t.Fatalf("counts: %v", counts)
	}
	if status, _ := tn.control("DELETE", "/sandbox/requests", nil); status != 204 {
		t.Fatal("reset")
	}
	if got := tn.sb.Requests(); len(got) != 0 {
		t.Fatalf("after reset: %v", got)
	}
}

func TestControlAPIRejectsBadInput(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	for _, body := range []map[string]any{
		{"status": 429},                          // no path
		{"path": "(", "status": 429},             // bad regexp
		{"path": "x", "status": 200},             // not an error status
		{"path": "x", "delay": "forever"},        // bad duration
		{"path": "x", "drop": "sideways"},        // bad drop
		{"path": "x", "status": 429, "bogus": 1}, // unknown field
		{"path": "x", "retryAfter": "soon", "status": 429},
		{"path": "x"}, // does nothing
	} {
		if status, out := tn.control("POST", "/sandbox/faults", body); status != 400 || out["error"] == "" {
			t.Errorf("%v: %d %v", body, status, out)
		}
	}
	if _, out := tn.control("GET", "/sandbox/faults", nil); len(out["faults"].([]any)) != 0 {
		t.Fatalf("a refused fault was installed: %v", out)
	}
	if status, _ := tn.control("POST", "/sandbox/people/nobody@nowhere.test/revoke", nil); status != 404 {
		t.Errorf("unknown person: %d", status)
	}
	if status, _ := tn.control("POST", "/sandbox/people/alex@contoso.test/explode", nil); status != 404 {
		t.Errorf("unknown action: %d", status)
	}
	if status, _ := tn.control("POST", "/sandbox/app/secrets", map[string]string{"action": "steal"}); status != 400 {
		t.Errorf("bad secret action: %d", status)
	}
	_, out := tn.control("GET", "/sandbox/", nil)
	if len(out["people"].([]any)) != len(tn.sb.Directory.People()) || len(out["people"].([]any)) < 6 {
		t.Errorf("overview: %v", out)
	}
	if strings.Contains(mustJSON(out), sandbox.DefaultClientSecret) {
		t.Error("the overview shows a secret value")
	}
}

func TestBatch(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	// One item throttled, one depending on a failed item, the rest fine.
	tn.control("POST", "/sandbox/faults", map[string]any{"path": "^/v1.0/me/calendars$", "status": 429, "retryAfter": "3", "times": 1})
	var out struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    map[string]any    `json:"body"`
		} `json:"responses"`
	}
	resp := tn.graph(tok, "POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/me"},
		map[string]any{"id": "2", "method": "GET", "url": "/me/calendars"},
		map[string]any{"id": "3", "method": "GET", "url": "/me/events?$top=1", "dependsOn": []string{"2"}},
		map[string]any{"id": "4", "method": "PATCH", "url": "/me/messages/AAMkADnothere", "body": map[string]any{"isRead": true}},
	}}, &out)
	if resp.StatusCode != 200 || len(out.Responses) != 4 {
		t.Fatalf("batch: %d %+v", resp.StatusCode, out)
	}
	got := map[string]int{}
	for _, r := range out.Responses {
		got[r.ID] = r.Status
		if r.ID == "2" && r.Headers["Retry-After"] != "3" {
			t.Errorf("throttled item lacks Retry-After: %v", r.Headers)
		}
	}
	if got["1"] != 200 || got["2"] != 429 || got["3"] != 424 || got["4"] != 404 {
		t.Fatalf("item statuses %v", got)
	}
	many := make([]any, 21)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/me"}
	}
	tn.expectGraphError(tok, "POST", "/$batch", map[string]any{"requests": many}, 400, "BadRequest")
}
