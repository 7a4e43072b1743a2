package mcpserver_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/storetest"
)

type filesJSON struct {
	Items []struct {
		ID, Name, Path, Kind string
	}
	NextCursor string `json:"next_cursor"`
}

func names(f filesJSON) []string {
	var out []string
	for _, it := range f.Items {
		out = append(out, it.Name)
	}
	return out
}

// The sharepoint capabilities: sites alex can open, their libraries, the
// files tools in a library (reading with sharepoint, changing with
// sharepoint.write); another site is refused in words; cursors, delta
// cursors and one-time links stay in their library.
func TestSharePoint(t *testing.T) { onEachDatabase(t, testSharePoint) }

func testSharePoint(t *testing.T, env map[string]string) {
	l := apptest.StartWithSandbox(t, env, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)
	marketingURL := "https://contoso.sharepoint.com/sites/marketing"
	if hasParam(t, l, token, "list_files", "site") {
		t.Fatal("site offered while SharePoint is off")
	}
	if res := call(t, connect(t, l, token, ""), "list_files", map[string]any{"site": marketingURL}, nil); !res.IsError || !strings.Contains(errorText(res), "sharepoint capability") {
		t.Fatalf("a library while off: %s", errorText(res))
	}
	setCapabilities(t, l, "sharepoint")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	if !graphgate.HasPermission(granted(t, l, alex), "Sites.Read.All") || !hasParam(t, l, token, "list_files", "drive") || hasParam(t, l, token, "upload_file", "site") {
		t.Fatal("reading arguments not offered once granted, or writing ones offered without sharepoint.write")
	}
	s := connect(t, l, token, "")

	// Sites alex is a member of, and their libraries (by id and by URL).
	var sites struct {
		Sites []struct{ ID, Name, URL string }
	}
	mustCall(t, s, "search_sites", map[string]any{"query": "*"}, &sites)
	if len(sites.Sites) != 2 || sites.Sites[0].Name != "Contoso Marketing" || sites.Sites[1].Name != "Projects" || sites.Sites[0].URL != marketingURL {
		t.Fatalf("alex's sites: %+v", sites)
	}
	var found struct{ Sites []struct{ Name string } }
	mustCall(t, s, "search_sites", map[string]any{"query": "finance"}, &found)
	if len(found.Sites) != 0 {
		t.Fatalf("a site alex is not a member of was found: %+v", found)
	}
	var drives, byURL struct{ Drives []struct{ ID, Name string } }
	mustCall(t, s, "list_site_drives", map[string]any{"site": sites.Sites[0].ID}, &drives)
	mustCall(t, s, "list_site_drives", map[string]any{"site": marketingURL}, &byURL)
	if len(drives.Drives) != 2 || drives.Drives[0].Name != "Documents" || drives.Drives[1].Name != "Brand Assets" || !slices.Equal(drives.Drives, byURL.Drives) {
		t.Fatalf("the marketing libraries: %+v %+v", drives, byURL)
	}
	docs, brand := drives.Drives[0].ID, drives.Drives[1].ID
	for _, tool := range []string{"list_site_drives", "list_files"} {
		res := call(t, s, tool, map[string]any{"site": "https://contoso.sharepoint.com/sites/finance"}, nil)
		if !res.IsError || !strings.Contains(errorText(res), "not a member of the site") {
			t.Fatalf("%s on a site alex is not in: %s", tool, errorText(res))
		}
	}

	// The files tools in a library.
	var root, campaigns, brandRoot filesJSON
	mustCall(t, s, "list_files", map[string]any{"site": marketingURL}, &root)
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "path": "/Campaigns"}, &campaigns)
	mustCall(t, s, "list_files", map[string]any{"drive": brand}, &brandRoot)
	if !slices.Equal(names(root), []string{"Campaigns", "Press release.docx"}) || !slices.Equal(names(brandRoot), []string{"Brand guidelines.pdf"}) ||
		len(campaigns.Items) != 2 || campaigns.Items[0].Path != "/Campaigns/Spring campaign plan.md" {
		t.Fatalf("the libraries: %v %v %+v", names(root), names(brandRoot), campaigns)
	}
	var read struct{ Text string }
	mustCall(t, s, "read_file", map[string]any{"site": sites.Sites[0].ID, "path": "/Campaigns/Spring campaign plan.md"}, &read)
	if !strings.Contains(read.Text, "Launch date: March 3") || !strings.Contains(read.Text, "<untrusted-content") {
		t.Fatalf("a document of the library: %q", read.Text)
	}
	var hits filesJSON
	mustCall(t, s, "search_files", map[string]any{"drive": docs, "query": "checklist"}, &hits)
	if !slices.Equal(names(hits), []string{"Trade fair checklist.txt"}) {
		t.Fatalf("searching the library: %v", names(hits))
	}
	mustCall(t, s, "search_files", map[string]any{"query": "checklist"}, &hits)
	if len(hits.Items) != 0 {
		t.Fatalf("OneDrive's search reached the library: %v", names(hits))
	}
	// Another person's OneDrive by its id is not a library alex may open.
	megansDrive := sandboxMailbox(t, l, "megan@contoso.test").Drive().ID
	if res := call(t, s, "list_files", map[string]any{"drive": megansDrive}, nil); !res.IsError {
		t.Fatal("alex listed megan's OneDrive")
	}
	if res := call(t, s, "list_files", map[string]any{"site": marketingURL, "drive": docs}, nil); !res.IsError || !strings.Contains(errorText(res), "not several") {
		t.Fatalf("site and drive together: %s", errorText(res))
	}
	for _, site := range []string{"https://evil.test/sites/marketing", "http://contoso.sharepoint.com/sites/marketing",
		"https://contoso.sharepoint.com/sites/marketing/../finance", "https://contoso.sharepoint.com/sites/marketing?x=1", "contoso.sharepoint.com,x,y"} {
		if res := call(t, s, "list_files", map[string]any{"site": site}, nil); !res.IsError || !strings.Contains(errorText(res), "site must be") {
			t.Fatalf("site %q: %s", site, errorText(res))
		}
	}

	// A cursor continues only its own drive.
	var first filesJSON
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "page_size": 1}, &first)
	for _, args := range []map[string]any{{"drive": brand}, {}, {"site": "https://contoso.sharepoint.com/sites/projects"}} {
		args["cursor"] = first.NextCursor
		if res := call(t, s, "list_files", args, nil); !res.IsError {
			t.Fatalf("a cursor of one library listed another drive: %v", args)
		}
	}
	var second filesJSON
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "cursor": first.NextCursor}, &second)
	if len(second.Items) != 1 || second.Items[0].Name == first.Items[0].Name {
		t.Fatalf("the next page of the library: %+v", second)
	}
	// list_changes on a library; its cursor stays there.
	var changes struct {
		Changes []struct {
			File *struct{ Name string }
		}
		ChangesCursor string `json:"changes_cursor"`
	}
	mustCall(t, s, "list_changes", map[string]any{"source": "files", "drive": docs}, &changes)
	if len(changes.Changes) != 4 || changes.ChangesCursor == "" {
		t.Fatalf("the library's current state: %+v", changes)
	}
	for _, args := range []map[string]any{{"source": "files"}, {"source": "files", "drive": brand}} {
		args["cursor"] = changes.ChangesCursor
		if res := call(t, s, "list_changes", args, nil); !res.IsError {
			t.Fatalf("a delta cursor of a library was used elsewhere: %v", args)
		}
	}
	if res := call(t, s, "list_changes", map[string]any{"source": "mail", "drive": docs}, nil); !res.IsError {
		t.Fatal("drive with source mail")
	}

	// A download link into a library works while SharePoint does.
	var pdf struct {
		DownloadURL string `json:"download_url"`
	}
	mustCall(t, s, "read_file", map[string]any{"drive": brand, "path": "/Brand guidelines.pdf"}, &pdf)
	var later struct {
		DownloadURL string `json:"download_url"`
	}
	mustCall(t, s, "read_file", map[string]any{"drive": brand, "path": "/Brand guidelines.pdf"}, &later)
	resp, err := http.Get(pdf.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "%PDF") {
		t.Fatalf("download from the library: %d %q", resp.StatusCode, body[:min(len(body), 40)])
	}

	// Changing files needs sharepoint.write.
	upload := map[string]any{"drive": docs, "path": "/Campaigns/agenda.md", "text": "# Agenda\n"}
	if res := call(t, s, "upload_file", upload, nil); !res.IsError || !strings.Contains(errorText(res), "sharepoint.write") {
		t.Fatalf("a change without sharepoint.write: %s", errorText(res))
	}
	setCapabilities(t, l, "sharepoint", "sharepoint.write")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	s = connect(t, l, token, "")
	mustCall(t, s, "upload_file", upload, nil)
	mustCall(t, s, "create_folder", map[string]any{"drive": docs, "parent": "/Campaigns", "name": "Summer"}, nil)
	mustCall(t, s, "move_file", map[string]any{"drive": docs, "path": "/Campaigns/agenda.md", "new_parent": "/Campaigns/Summer"}, nil)
	var large struct {
		UploadURL string `json:"upload_url"`
	}
	mustCall(t, s, "upload_file", map[string]any{"drive": docs, "path": "/Campaigns/Summer/video.bin", "large": true}, &large)
	if status, body := putUpload(t, large.UploadURL, 4<<20); status != http.StatusCreated {
		t.Fatalf("a large upload into the library: %d %s", status, body)
	}
	var summer filesJSON
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "path": "/Campaigns/Summer"}, &summer)
	if !slices.Equal(names(summer), []string{"agenda.md", "video.bin"}) {
		t.Fatalf("the library after the changes: %v", names(summer))
	}
	mustCall(t, s, "delete_file", map[string]any{"drive": docs, "path": "/Campaigns/Summer/video.bin"}, nil)
	if res := call(t, s, "list_files", map[string]any{"path": "/Campaigns"}, nil); !res.IsError || !strings.Contains(errorText(res), "not found") {
		t.Fatalf("OneDrive changed instead of the library: %s", textOf(res))
	}
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "path": "/Campaigns/Summer"}, &summer)
	if !slices.Equal(names(summer), []string{"agenda.md"}) {
		t.Fatalf("after the deletion: %v", names(summer))
	}
	audit, _, _ := l.App.Store.ListAudit(t.Context(), graphgate.AuditFilter{Action: graphgate.ActionToolCall})
	if !slices.ContainsFunc(audit, func(e *graphgate.AuditEvent) bool { return e.Details["library"] == "drives/"+docs }) {
		t.Error("no audit event names the library")
	}

	// SharePoint turned off: the library's links and cursors stop.
	var upLater struct {
		UploadURL string `json:"upload_url"`
	}
	mustCall(t, s, "upload_file", map[string]any{"drive": docs, "path": "/late.bin", "large": true}, &upLater)
	mustCall(t, s, "list_files", map[string]any{"drive": docs, "page_size": 1}, &first)
	setCapabilities(t, l)
	if resp, err := http.Get(later.DownloadURL); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a library's download link after SharePoint was turned off: %v %v", err, resp)
	}
	if status, _ := putUpload(t, upLater.UploadURL, 10); status != http.StatusForbidden {
		t.Fatalf("a library's upload link after SharePoint was turned off: %d", status)
	}
	if res := call(t, connect(t, l, token, ""), "list_files", map[string]any{"cursor": first.NextCursor}, nil); !res.IsError {
		t.Fatal("a library's cursor after SharePoint was turned off")
	}
}

// onEachDatabase runs a test on SQLite, and on a fresh PostgreSQL database
// where ./scripts/test provides one.
func onEachDatabase(t *testing.T, test func(t *testing.T, env map[string]string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		base := apptest.PostgresURL()
		if base == "" {
			t.Skip("GRAPHGATE_TEST_POSTGRES_URL is not set; ./scripts/test sets it")
		}
		test(t, map[string]string{"GRAPHGATE_DATABASE_URL": storetest.FreshPostgresDB(t, base),
			"GRAPHGATE_ENCRYPTION_KEY": "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="})
	})
}
