package apptest

import (
	"io"
	"net/http"
	"strings"
)

// ToolCall posts one tools/call to graphgate's MCP endpoint at base as plain
// JSON-RPC over HTTP (the 2025-11-25 revision), as a load generator or a test
// that wants the raw answer does, and returns the status and body. args is
// the arguments object in JSON ("" for none).
func ToolCall(client *http.Client, base, token, tool, args string) (int, string, error) {
	if args == "" {
		args = "{}"
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
