package mcpserver

import (
	"embed"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Icons: one small SVG for the server and one per toolset (mail, calendar,
// files, profile, people, tasks, teams), shipped in the binary and served
// at IconPath, for clients that show them (MCP icons). A tool's icon is its
// toolset's, so the tool list grows by one short URL a tool.

// IconPath is where the icons are served.
const IconPath = "/icons/"

//go:embed icons/*.svg
var iconFiles embed.FS

// icon is the icon of a toolset, or "graphgate" for the server's.
func (s *Server) icon(name string) []mcp.Icon {
	// No mimeType: the URL's own Content-Type says it, in fewer bytes.
	return []mcp.Icon{{Source: s.d.BaseURL + IconPath + name + ".svg"}}
}

// serveIcon serves one icon: an image, never a document (no script runs
// in it even when opened on its own).
func serveIcon(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := iconFiles.ReadFile("icons/" + name)
	if err != nil || !strings.HasSuffix(name, ".svg") || strings.ContainsAny(name, "/\\") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(body)
}
