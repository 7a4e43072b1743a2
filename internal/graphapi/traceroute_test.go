package graphapi

import "testing"

// A span names a Graph route, never an id, an address, a file path or a
// search.
func TestTraceRoute(t *testing.T) {
	for path, want := range map[string]string{
		"me/messages/AAMkAGI2TG93AAA=/attachments":           "me/messages/{id}/attachments",
		"me/mailFolders/inbox/messages":                      "me/mailFolders/inbox/messages",
		"users/support@contoso.test/messages":                "users/{id}/messages",
		"me/drive/root:/Private/salaries 2026.xlsx:/content": "me/drive/root:{path}",
		"drives/b!xyz123/items/01ABC/children":               "drives/{id}/items/{id}/children",
		"chats/19:meeting_abc@thread.v2/messages":            "chats/{id}:{path}",
		"me/calendarView/microsoft.graph.delta":              "me/calendarView/microsoft.graph.delta",
	} {
		if got := traceRoute(path); got != want {
			t.Errorf("traceRoute(%q) = %q, want %q", path, got, want)
		}
	}
}
