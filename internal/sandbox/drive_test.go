package sandbox_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/seed"
)

type driveItem struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ETag        string `json:"eTag"`
	DownloadURL string `json:"@microsoft.graph.downloadUrl"`
	Folder      *struct {
		ChildCount int `json:"childCount"`
	} `json:"folder"`
	File *struct {
		MimeType string `json:"mimeType"`
	} `json:"file"`
	ParentReference struct {
		ID   string `json:"id"`
		Path string `json:"path"`
	} `json:"parentReference"`
	Deleted map[string]any `json:"deleted"`
}

type itemPage struct {
	Value     []driveItem `json:"value"`
	NextLink  string      `json:"@odata.nextLink"`
	DeltaLink string      `json:"@odata.deltaLink"`
}

func TestDriveBrowse(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var drive map[string]any
	tn.graph(tok, "GET", "/me/drive", nil, &drive)
	if drive["driveType"] != "business" || drive["id"] == nil {
		t.Fatalf("drive: %v", drive)
	}
	var root itemPage
	tn.graph(tok, "GET", "/me/drive/root/children", nil, &root)
	names := map[string]driveItem{}
	for _, it := range root.Value {
		names[it.Name] = it
	}
	for _, n := range []string{"Documents", "Pictures", "Recordings", "Shared", "Getting started with OneDrive.pdf"} {
		if _, ok := names[n]; !ok {
			t.Errorf("root lacks %s (has %v)", n, names)
		}
	}
	if !(root.Value[0].Folder != nil) {
		t.Error("folders should come first")
	}

	// Path addressing, with and without the closing colon, and nested.
	var spec driveItem
	tn.graph(tok, "GET", "/me/drive/root:/Documents/Projects/Apollo/spec.md:", nil, &spec)
	if spec.Name != "spec.md" || spec.File == nil || spec.File.MimeType != "text/markdown" || spec.ParentReference.Path != "/drive/root:/Documents/Projects/Apollo" {
		t.Fatalf("path item: %+v", spec)
	}
	var same driveItem
	tn.graph(tok, "GET", "/me/drive/root:/Documents/Projects/Apollo/spec.md", nil, &same)
	if same.ID != spec.ID {
		t.Error("path without the closing colon resolved differently")
	}
	var apollo itemPage
	tn.graph(tok, "GET", "/me/drive/root:/Documents/Projects/Apollo:/children", nil, &apollo)
	if len(apollo.Value) != 4 {
		t.Fatalf("Apollo children: %d", len(apollo.Value))
	}
	tn.graph(tok, "GET", "/me/drive/items/"+spec.ParentReference.ID+"/children?$top=2", nil, &apollo)
	if len(apollo.Value) != 2 || apollo.NextLink == "" {
		t.Fatalf("paged children: %d %q", len(apollo.Value), apollo.NextLink)
	}
	var page2 itemPage
	tn.graph(tok, "GET", apollo.NextLink, nil, &page2)
	if len(page2.Value) != 2 || page2.NextLink != "" || page2.Value[0].ID == apollo.Value[0].ID {
		t.Fatalf("second page: %d %q", len(page2.Value), page2.NextLink)
	}
	tn.expectGraphError(tok, "GET", "/me/drive/root:/Documents/nope.txt:", nil, 404, "itemNotFound")
	tn.expectGraphError(tok, "GET", "/me/drive/items/01ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", nil, 404, "itemNotFound")
	tn.expectGraphError(tok, "GET", "/me/drive/items/bogus", nil, 400, "invalidRequest")

	// Search by name.
	var hits itemPage
	tn.graph(tok, "GET", "/me/drive/root/search(q='report')", nil, &hits)
	if len(hits.Value) == 0 {
		t.Fatal("search found nothing")
	}
	for _, h := range hits.Value {
		if !strings.Contains(strings.ToLower(h.Name), "report") {
			t.Errorf("search hit %q", h.Name)
		}
	}

	// The big seeded file is over 10 MB.
	var rec driveItem
	tn.graph(tok, "GET", "/me/drive/root:/Recordings/town-hall.mp4:", nil, &rec)
	if rec.Size != seed.BigFileSize || rec.Size <= 10<<20 {
		t.Fatalf("recording size %d", rec.Size)
	}

	// A personal account's drive has personal-style ids.
	jo := tn.link("jo@outlook.test").AccessToken
	tn.graph(jo, "GET", "/me/drive", nil, &drive)
	tn.graph(jo, "GET", "/me/drive/root:/Documents:", nil, &same)
	if drive["driveType"] != "personal" || !strings.Contains(same.ID, "!") {
		t.Fatalf("personal drive %v item %s", drive["driveType"], same.ID)
	}
}

func TestDriveDownload(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	resp := tn.graph(tok, "GET", "/me/drive/root:/Documents/Meeting notes.txt:/content", nil, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("content: %d, want 302", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	// The pre-authenticated URL needs no Authorization header.
	dl, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, dl)
	if dl.StatusCode != 200 || !strings.HasPrefix(body, "Meeting notes") {
		t.Fatalf("download: %d %q", dl.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", loc, nil)
	req.Header.Set("Range", "bytes=0-6")
	part, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, part); part.StatusCode != http.StatusPartialContent || b != "Meeting" {
		t.Fatalf("range: %d %q", part.StatusCode, b)
	}
	// A tampered link is refused.
	bad, _ := http.Get(loc[:len(loc)-3] + "xyz")
	readBody(t, bad)
	if bad.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tampered link: %d", bad.StatusCode)
	}
	// The big file streams in full.
	resp = tn.graph(tok, "GET", "/me/drive/root:/Recordings/town-hall.mp4:/content", nil, nil)
	big, err := http.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, big.Body)
	big.Body.Close()
	if n != seed.BigFileSize {
		t.Fatalf("big download %d bytes", n)
	}
}

func TestDriveWrites(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	put := func(path string, body string) (*http.Response, driveItem) {
		req, _ := http.NewRequest("PUT", tn.URL+"/v1.0"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var it driveItem
		raw := readBody(t, resp)
		_ = jsonUnmarshal(raw, &it)
		return resp, it
	}
	// Simple upload creates (201), replaces (200), or renames on request.
	resp, created := put("/me/drive/root:/Notes/todo.txt:/content", "milk")
	if resp.StatusCode != 201 || created.Size != 4 {
		t.Fatalf("create: %d %+v", resp.StatusCode, created)
	}
	resp, replaced := put("/me/drive/root:/Notes/todo.txt:/content", "milk, eggs")
	if resp.StatusCode != 200 || replaced.ID != created.ID || replaced.Size != 10 || replaced.ETag == created.ETag {
		t.Fatalf("replace: %d %+v", resp.StatusCode, replaced)
	}
	resp, renamed := put("/me/drive/root:/Notes/todo.txt:/content?@microsoft.graph.conflictBehavior=rename", "bread")
	if resp.StatusCode != 201 || renamed.Name != "todo 1.txt" {
		t.Fatalf("rename: %d %+v", resp.StatusCode, renamed)
	}
	if resp, _ := put("/me/drive/root:/Notes/todo.txt:/content?@microsoft.graph.conflictBehavior=fail", "x"); resp.StatusCode != 409 {
		t.Fatalf("fail behaviour: %d", resp.StatusCode)
	}
	if resp, _ := put("/me/drive/items/"+created.ParentReference.ID+":/bad|name.txt:/content", "x"); resp.StatusCode != 400 {
		t.Fatalf("invalid name: %d", resp.StatusCode)
	}

	// Create folder: conflict fails by default, renames on request.
	var folder driveItem
	if resp := tn.graph(tok, "POST", "/me/drive/root/children", map[string]any{"name": "Reports", "folder": map[string]any{}}, &folder); resp.StatusCode != 201 || folder.Folder == nil {
		t.Fatalf("create folder: %d", resp.StatusCode)
	}
	tn.expectGraphError(tok, "POST", "/me/drive/root/children", map[string]any{"name": "Reports", "folder": map[string]any{}}, 409, "nameAlreadyExists")
	var second driveItem
	tn.graph(tok, "POST", "/me/drive/root/children", map[string]any{"name": "Reports", "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": "rename"}, &second)
	if second.Name != "Reports 1" {
		t.Fatalf("renamed folder %q", second.Name)
	}

	// Rename and move.
	var moved driveItem
	if resp := tn.graph(tok, "PATCH", "/me/drive/items/"+created.ID, map[string]any{"name": "shopping.txt", "parentReference": map[string]string{"id": folder.ID}}, &moved); resp.StatusCode != 200 {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	if moved.Name != "shopping.txt" || moved.ParentReference.ID != folder.ID || moved.ParentReference.Path != "/drive/root:/Reports" {
		t.Fatalf("moved: %+v", moved)
	}
	tn.expectGraphError(tok, "PATCH", "/me/drive/items/"+folder.ID, map[string]any{"parentReference": map[string]string{"id": folder.ID}}, 400, "invalidRequest")
	tn.expectGraphError(tok, "PATCH", "/me/drive/items/"+renamed.ID, map[string]any{"name": "shopping.txt", "parentReference": map[string]string{"id": folder.ID}}, 409, "nameAlreadyExists")

	// Delete, then it is gone.
	if resp := tn.graph(tok, "DELETE", "/me/drive/items/"+folder.ID, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	tn.expectGraphError(tok, "GET", "/me/drive/items/"+moved.ID, nil, 404, "itemNotFound")
	tn.expectGraphError(tok, "DELETE", "/me/drive/root", nil, 403, "accessDenied")
}

func TestUploadSession(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var sess struct {
		UploadURL          string   `json:"uploadUrl"`
		NextExpectedRanges []string `json:"nextExpectedRanges"`
	}
	if resp := tn.graph(tok, "POST", "/me/drive/root:/Uploads/big.bin:/createUploadSession",
		map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "rename"}}, &sess); resp.StatusCode != 200 || sess.UploadURL == "" {
		t.Fatalf("createUploadSession: %d %+v", resp.StatusCode, sess)
	}
	const total = 10 << 20
	data := bytes.Repeat([]byte("graphgate"), total/9+1)[:total]
	chunk := 10 * 320 << 10 // 3.125 MiB: a multiple of 320 KiB
	send := func(start, end int, withAuth bool) *http.Response {
		req, _ := http.NewRequest("PUT", sess.UploadURL, bytes.NewReader(data[start:end]))
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, total))
		if withAuth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Rules first: no Authorization header, 320 KiB multiples, in order.
	if resp := send(0, chunk, true); resp.StatusCode != 401 {
		t.Fatalf("upload with Authorization: %d", resp.StatusCode)
	}
	if resp := send(0, 1000, false); resp.StatusCode != 400 {
		t.Fatalf("odd-sized middle chunk: %d", resp.StatusCode)
	}
	if resp := send(chunk, 2*chunk, false); resp.StatusCode != 416 {
		t.Fatalf("out-of-order chunk: %d", resp.StatusCode)
	}
	var last *http.Response
	for start := 0; start < total; start += chunk {
		end := min(start+chunk, total)
		last = send(start, end, false)
		if end < total {
			var st struct {
				NextExpectedRanges []string `json:"nextExpectedRanges"`
			}
			_ = jsonUnmarshal(readBody(t, last), &st)
			if last.StatusCode != 202 || len(st.NextExpectedRanges) != 1 || st.NextExpectedRanges[0] != fmt.Sprintf("%d-", end) {
				t.Fatalf("chunk at %d: %d %v", start, last.StatusCode, st.NextExpectedRanges)
			}
		}
	}
	var item driveItem
	_ = jsonUnmarshal(readBody(t, last), &item)
	if last.StatusCode != 201 || item.Size != total || item.Name != "big.bin" {
		t.Fatalf("final chunk: %d %+v", last.StatusCode, item)
	}
	// The bytes arrived intact.
	resp := tn.graph(tok, "GET", "/me/drive/items/"+item.ID+"/content", nil, nil)
	dl, _ := http.Get(resp.Header.Get("Location"))
	got, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("uploaded bytes differ")
	}
	// The session is gone once complete.
	st, _ := http.Get(sess.UploadURL)
	readBody(t, st)
	if st.StatusCode != 404 {
		t.Fatalf("finished session status: %d", st.StatusCode)
	}
	// conflictBehavior=fail refuses an existing name up front.
	tn.expectGraphError(tok, "POST", "/me/drive/root:/Uploads/big.bin:/createUploadSession",
		map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "fail"}}, 409, "nameAlreadyExists")
}

func TestDriveDelta(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var all []driveItem
	next := tn.URL + "/v1.0/me/drive/root/delta?$top=7"
	var deltaLink string
	for next != "" {
		var p itemPage
		tn.graph(tok, "GET", next, nil, &p)
		all = append(all, p.Value...)
		next, deltaLink = p.NextLink, p.DeltaLink
	}
	if len(all) < 20 || deltaLink == "" || all[0].Name != "root" {
		t.Fatalf("initial delta: %d items, deltaLink %q, first %q", len(all), deltaLink, all[0].Name)
	}
	// Nothing changed: an empty page and a new deltaLink.
	var p itemPage
	tn.graph(tok, "GET", deltaLink, nil, &p)
	if len(p.Value) != 0 || p.DeltaLink == "" {
		t.Fatalf("no-change delta: %+v", p)
	}
	// Change one file and delete another: both show up.
	var notes driveItem
	tn.graph(tok, "GET", "/me/drive/root:/Documents/Meeting notes.txt:", nil, &notes)
	tn.graph(tok, "PATCH", "/me/drive/items/"+notes.ID, map[string]string{"name": "Notes.txt"}, nil)
	var readme driveItem
	tn.graph(tok, "GET", "/me/drive/root:/Documents/README.md:", nil, &readme)
	tn.graph(tok, "DELETE", "/me/drive/items/"+readme.ID, nil, nil)
	tn.graph(tok, "GET", p.DeltaLink, nil, &p)
	changed := map[string]driveItem{}
	for _, it := range p.Value {
		changed[it.ID] = it
	}
	if changed[notes.ID].Name != "Notes.txt" || changed[readme.ID].Deleted == nil || len(p.Value) != 2 {
		t.Fatalf("delta after changes: %+v", p.Value)
	}
	// Lost state: 410 resyncRequired.
	tn.control("POST", "/sandbox/people/alex@contoso.test/drive-resync", nil)
	tn.expectGraphError(tok, "GET", p.DeltaLink, nil, 410, "resyncRequired")
	tn.expectGraphError(tok, "GET", "/me/drive/root/delta?token=garbage", nil, 410, "resyncRequired")
}

func TestAttachmentUploadSession(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var draft struct{ ID string }
	tn.graph(tok, "POST", "/me/messages", map[string]any{"subject": "Big file"}, &draft)
	tn.expectGraphError(tok, "POST", "/me/messages/"+draft.ID+"/attachments/createUploadSession",
		map[string]any{"AttachmentItem": map[string]any{"attachmentType": "file", "name": "small.bin", "size": 1 << 20}}, 400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize")
	const size = 4 << 20
	var sess struct{ UploadURL string }
	if resp := tn.graph(tok, "POST", "/me/messages/"+draft.ID+"/attachments/createUploadSession",
		map[string]any{"AttachmentItem": map[string]any{"attachmentType": "file", "name": "video.bin", "size": size}}, &sess); resp.StatusCode != 201 {
		t.Fatalf("createUploadSession: %d", resp.StatusCode)
	}
	data := bytes.Repeat([]byte{7}, size)
	chunk := 8 * 320 << 10
	for start := 0; start < size; start += chunk {
		end := min(start+chunk, size)
		req, _ := http.NewRequest("PUT", sess.UploadURL, bytes.NewReader(data[start:end]))
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if want := map[bool]int{true: 201, false: 202}[end == size]; resp.StatusCode != want {
			t.Fatalf("chunk at %d: %d, want %d", start, resp.StatusCode, want)
		}
	}
	var atts struct{ Value []struct{ Name string } }
	tn.graph(tok, "GET", "/me/messages/"+draft.ID+"/attachments", nil, &atts)
	if len(atts.Value) != 1 || atts.Value[0].Name != "video.bin" {
		t.Fatalf("attachments: %+v", atts.Value)
	}
}
