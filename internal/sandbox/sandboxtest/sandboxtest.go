// Package sandboxtest walks the sandbox tenant's sign-in pages the way a
// person does, for tests and measuring scripts.
package sandboxtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// SignIn opens authURL at the sandbox, picks account, answers the consent
// page (when shown) with decision ("accept" or "cancel"), and returns the URL
// the sandbox sends the browser back to.
func SignIn(authURL, account, decision string) (string, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	read := func(resp *http.Response, err error) (string, *http.Response, error) {
		if err != nil {
			return "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), resp, err
	}
	page, resp, err := read(c.Get(authURL))
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusFound {
		return resp.Header.Get("Location"), nil
	}
	m := requestField.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no account picker at %s (status %d)", authURL, resp.StatusCode)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	base := u.Scheme + "://" + u.Host + "/" + strings.Split(strings.TrimPrefix(u.Path, "/"), "/")[0]
	if _, resp, err = read(c.PostForm(base+"/login/account", url.Values{"request": {m[1]}, "account": {account}})); err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusFound {
		return resp.Header.Get("Location"), nil
	}
	if _, resp, err = read(c.PostForm(base+"/login/consent", url.Values{"request": {m[1]}, "decision": {decision}})); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("the consent answer gave status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// Code signs account in, accepting consent, and returns the authorization code.
func Code(authURL, account string) (string, error) {
	back, err := SignIn(authURL, account, "accept")
	if err != nil {
		return "", err
	}
	u, err := url.Parse(back)
	if err != nil {
		return "", err
	}
	if code := u.Query().Get("code"); code != "" {
		return code, nil
	}
	return "", fmt.Errorf("no code in %s", back)
}

// AdminConsent opens an admin consent URL at the sandbox, signs in as
// account and answers for the organisation with decision ("accept" or
// "cancel"); it returns the URL the sandbox sends the browser back to.
func AdminConsent(consentURL, account, decision string) (string, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(consentURL)
	if err != nil {
		return "", err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusFound {
		return resp.Header.Get("Location"), nil
	}
	m := requestField.FindStringSubmatch(string(page))
	if m == nil {
		return "", fmt.Errorf("no admin consent page at %s (status %d)", consentURL, resp.StatusCode)
	}
	u, err := url.Parse(consentURL)
	if err != nil {
		return "", err
	}
	base := u.Scheme + "://" + u.Host + "/" + strings.Split(strings.TrimPrefix(u.Path, "/"), "/")[0]
	resp, err = c.PostForm(base+"/adminconsent/answer", url.Values{"request": {m[1]}, "account": {account}, "decision": {decision}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("the admin consent answer gave status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}
