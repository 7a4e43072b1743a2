package web

import "testing"

func TestFormTargetCannotBreakThePolicy(t *testing.T) {
	for uri, want := range map[string]string{
		"http://127.0.0.1:53682/callback":             "http://127.0.0.1:53682",
		"https://claude.ai/api/mcp/auth_callback":     "https://claude.ai",
		"cursor://anysphere.cursor-retrieval/oauth/x": "cursor://anysphere.cursor-retrieval",
		"com.example.app:/callback":                   "com.example.app:",
		"http://[::1]:8080/cb":                        "http://[::1]:8080",
		"https://a;script-src *;/cb":                  "",
		"https://a b/cb":                              "",
		"java script:x":                               "",
	} {
		if got := formTarget(uri); got != want {
			t.Errorf("%q: %q, want %q", uri, got, want)
		}
	}
}
