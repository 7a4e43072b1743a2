package graphgate_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"graphgate"
	"graphgate/internal/apptest"
)

// registrySchema is the MCP Registry's published server.json schema.
func registrySchema(t *testing.T) *jsonschema.Resolved {
	t.Helper()
	raw, err := os.ReadFile("testdata/registry/server.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type registryEntry struct {
	Name    string `json:"name"`
	Remotes []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"remotes"`
	Meta struct {
		Publisher struct {
			Authorization struct {
				ProtectedResourceMetadata string   `json:"protectedResourceMetadata"`
				Scopes                    []string `json:"scopes"`
			} `json:"authorization"`
		} `json:"io.modelcontextprotocol.registry/publisher-provided"`
	} `json:"_meta"`
}

// server.json, graphgate's entry for the MCP Registry, is valid against
// the registry's schema and says what a running graphgate does: Streamable
// HTTP at /mcp on the organisation's host, OAuth with its scopes.
func TestRegistryEntry(t *testing.T) {
	schema := registrySchema(t)
	raw, err := os.ReadFile("server.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("server.json against the registry's schema: %v", err)
	}
	// The schema refuses what the registry refuses, so its passing means
	// something.
	for name, broken := range map[string]func(map[string]any){
		"no namespace":          func(m map[string]any) { m["name"] = "graphgate" },
		"a long description":    func(m map[string]any) { m["description"] = strings.Repeat("x", 101) },
		"no version":            func(m map[string]any) { delete(m, "version") },
		"another transport":     func(m map[string]any) { m["remotes"].([]any)[0].(map[string]any)["type"] = "websocket" },
		"a URL with a space in": func(m map[string]any) { m["remotes"].([]any)[0].(map[string]any)["url"] = "https://a b/mcp" },
	} {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		broken(m)
		if schema.Validate(m) == nil {
			t.Errorf("the schema accepts server.json with %s", name)
		}
	}

	var entry registryEntry
	if err := json.Unmarshal(raw, &entry); err != nil {
		t.Fatal(err)
	}
	auth := entry.Meta.Publisher.Authorization
	if len(entry.Remotes) != 1 || entry.Remotes[0].Type != "streamable-http" || !slices.Equal(auth.Scopes, graphgate.Scopes) {
		t.Fatalf("server.json: %+v", entry)
	}
	// A running graphgate answers at the entry's URLs, its host put in.
	l := apptest.Start(t, nil)
	host := strings.TrimPrefix(l.URL, "http://")
	at := func(template string) string {
		return strings.Replace(strings.Replace(template, "{graphgate_host}", host, 1), "https://", "http://", 1)
	}
	res, err := http.Get(at(auth.ProtectedResourceMetadata))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var meta struct {
		Resource string   `json:"resource"`
		Scopes   []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&meta); err != nil || res.StatusCode != 200 {
		t.Fatalf("protected resource metadata: %d %v", res.StatusCode, err)
	}
	if meta.Resource != at(entry.Remotes[0].URL) || !slices.Equal(meta.Scopes, auth.Scopes) {
		t.Fatalf("the entry says %s and %v; graphgate says %s and %v", at(entry.Remotes[0].URL), auth.Scopes, meta.Resource, meta.Scopes)
	}
}
