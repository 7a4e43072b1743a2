package mcpserver_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// Every tool and the server have an icon (their toolset's), served by
// graphgate as an image that cannot run script; nothing else is served
// there.
func TestIcons(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "2026-07-28")
	tools, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string]bool{}
	for _, tool := range tools.Tools {
		if len(tool.Icons) != 1 || !strings.HasPrefix(tool.Icons[0].Source, l.URL+"/icons/") {
			t.Fatalf("%s: icons %v", tool.Name, tool.Icons)
		}
		srcs[tool.Icons[0].Source] = true
	}
	info := s.InitializeResult()
	if info == nil || info.ServerInfo == nil || len(info.ServerInfo.Icons) != 1 {
		t.Fatalf("the server's icon: %+v", info)
	}
	srcs[info.ServerInfo.Icons[0].Source] = true
	if len(srcs) < 5 {
		t.Fatalf("icons by toolset: %v", srcs)
	}
	for src := range srcs {
		res, err := http.Get(src)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		h := res.Header
		if res.StatusCode != 200 || h.Get("Content-Type") != "image/svg+xml" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", src, res.StatusCode, h)
		}
		if err := xml.Unmarshal(body, new(struct{})); err != nil || strings.Contains(string(body), "<script") || len(body) > 1024 {
			t.Fatalf("%s is not a small, script-free SVG: %v", src, err)
		}
	}
	for _, path := range []string{"/icons/nothing.svg", "/icons/..%2fapps.go", "/icons/%2e%2e%2fviews%2fbridge.js", "/icons/"} {
		res, err := http.Get(l.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Errorf("%s answered 200", path)
		}
	}
}
