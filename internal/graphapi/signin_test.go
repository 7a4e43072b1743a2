package graphapi

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var requestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

// sandboxCode walks the sandbox's picker and consent and returns the code.
func sandboxCode(t *testing.T, base, authURL, account string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := requestRE.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no picker")
	}
	for _, step := range []struct {
		path string
		form url.Values
	}{{"/common/login/account", url.Values{"request": {m[1]}, "account": {account}}}, {"/common/login/consent", url.Values{"request": {m[1]}, "decision": {"accept"}}}} {
		resp, err = c.PostForm(base+step.path, step.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			break
		}
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	return u.Query().Get("code")
}
