// Command answer-bytes reports, for graphgate's reading tools on the seeded
// sandbox mailbox, how many bytes each answer takes: the text a model reads,
// the structured content, and the whole JSON-RPC response.
//
//	go run ./scripts/answer-bytes
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"

	"graphgate/internal/app"
	"graphgate/internal/apptest"
	"graphgate/internal/config"
	"graphgate/internal/proctest"
	"graphgate/internal/sandbox"
)

func main() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "answer-bytes-")
	check(err)
	defer os.RemoveAll(tmp)
	sb, err := sandbox.New(sandbox.Options{})
	check(err)
	sbSrv := httptest.NewServer(sb)
	defer sbSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	base := "http://" + ln.Addr().String()
	env := map[string]string{"GRAPHGATE_DATA_DIR": tmp, "GRAPHGATE_BASE_URL": base, "GRAPHGATE_M365_LOGIN_URL": sbSrv.URL,
		"GRAPHGATE_M365_GRAPH_URL": sbSrv.URL, "GRAPHGATE_LOG_LEVEL": "error"}
	people, err := proctest.Seed(ctx, env, sb, sbSrv.URL, []string{"alex@contoso.test"}, 1)
	check(err)
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	check(err)
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	check(err)
	go func() { _ = a.Serve(ctx, ln) }()
	token := people[0].AgentTokens[0]

	call := func(tool, args string) (text, structured, total int, result map[string]any) {
		status, body, err := apptest.ToolCall(http.DefaultClient, base, token, tool, args)
		check(err)
		if status != 200 {
			log.Fatalf("%s: %d %s", tool, status, body)
		}
		var resp struct {
			Result struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
				Structured json.RawMessage `json:"structuredContent"`
				IsError    bool            `json:"isError"`
			} `json:"result"`
		}
		check(json.Unmarshal([]byte(body), &resp))
		if resp.Result.IsError {
			log.Fatalf("%s: %s", tool, body)
		}
		for _, c := range resp.Result.Content {
			text += len(c.Text)
		}
		_ = json.Unmarshal(resp.Result.Structured, &result)
		return text, len(resp.Result.Structured), len(body), result
	}
	fmt.Printf("%-44s %8s %12s %8s\n", "tool (arguments)", "text", "structured", "total")
	show := func(label, tool, args string) map[string]any {
		text, st, total, result := call(tool, args)
		fmt.Printf("%-44s %8d %12d %8d\n", label, text, st, total)
		return result
	}
	list := show("list_messages (25 from the inbox)", "list_messages", `{"page_size":25}`)
	show("search_messages (subject:budget)", "search_messages", `{"query":"subject:budget"}`)
	if msgs, _ := list["messages"].([]any); len(msgs) > 0 {
		id := msgs[0].(map[string]any)["id"].(string)
		show("get_message (the newest)", "get_message", `{"id":"`+id+`"}`)
	}
	show("list_mail_folders", "list_mail_folders", "")
	show("list_events (the next 7 days)", "list_events", "")
	show("find_free_time (next 7 days, 30 min)", "find_free_time", "")
	show("get_schedule (self and a colleague)", "get_schedule", `{"people":["nina@contoso.test"]}`)
	show("list_calendars", "list_calendars", "")
	show("list_files (the root)", "list_files", "")
	show("search_files (report)", "search_files", `{"query":"report"}`)
	show("read_file (/Documents/Meeting notes.txt)", "read_file", `{"path":"/Documents/Meeting notes.txt"}`)
	show("get_profile", "get_profile", "")
	show("list_changes (mail, first 25)", "list_changes", `{"source":"mail","page_size":25}`)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
