package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

// pattern is a reader of n predictable bytes that holds none of them.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := min(int64(len(b)), p.n-p.off)
	for i := range k {
		b[i] = byte((p.off + i) % 251)
	}
	p.off += k
	return int(k), nil
}

func putUpload(t *testing.T, uploadURL string, size int64) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", uploadURL, &pattern{n: size})
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func TestLargeUploadLink(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "")
	var out struct {
		UploadURL string `json:"upload_url"`
	}
	if res := call(t, s, "upload_file", map[string]any{"path": "/Videos/demo.bin", "large": true}, &out); res.IsError || out.UploadURL == "" {
		t.Fatalf("upload link: %s", errorText(res))
	}
	const size = 5<<20 + 12345 // not a multiple of the chunk size
	status, body := putUpload(t, out.UploadURL, size)
	if status != http.StatusCreated || !strings.Contains(body, `"path":"/Videos/demo.bin"`) {
		t.Fatalf("upload: %d %s", status, body)
	}
	if status, _ := putUpload(t, out.UploadURL, 10); status != http.StatusNotFound {
		t.Fatalf("second use of the link: %d", status)
	}
	// The bytes arrived intact: read them back through a download link.
	var f struct {
		DownloadURL string `json:"download_url"`
	}
	call(t, s, "read_file", map[string]any{"path": "/Videos/demo.bin"}, &f)
	resp, err := http.Get(f.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := io.ReadAll(&pattern{n: size})
	if string(got) != string(want) {
		t.Fatalf("uploaded %d bytes, read back %d, different content", size, len(got))
	}
}

// TestHundredMegabyteUploadMemory uploads 100 MB through an upload link
// while sampling graphgate's heap. The sandbox runs in a process of its own,
// so what is measured is graphgate alone.
func TestHundredMegabyteUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := filepath.Join(t.TempDir(), "graphgate")
	if out, err := exec.Command("go", "build", "-o", bin, "graphgate/cmd/graphgate").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sb := exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0")
	stdout, _ := sb.StdoutPipe()
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Process.Kill(); _ = sb.Wait() })
	sc := bufio.NewScanner(stdout)
	var sbURL string
	for sc.Scan() {
		if m := regexp.MustCompile(`sandbox tenant at (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			sbURL = m[1]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if sbURL == "" {
		t.Fatal("the sandbox did not start")
	}

	srv := apptest.Start(t, map[string]string{"GRAPHGATE_M365_LOGIN_URL": sbURL, "GRAPHGATE_M365_GRAPH_URL": sbURL})
	ctx := context.Background()
	if _, err := srv.App.Web.Admin().ConfigureM365(ctx, nil, microsoft365.Setup{ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI}); err != nil {
		t.Fatal(err)
	}
	u, err := srv.App.Web.Admin().CreateUser(ctx, nil, admin.NewUser{Email: "alex@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	// Link alex with tokens from the external sandbox's code flow.
	cfg := &oauth2.Config{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RedirectURL: sandbox.DefaultRedirectURI,
		Scopes: []string{"offline_access", "User.Read", "Files.ReadWrite"}, Endpoint: oauth2.Endpoint{AuthURL: sbURL + "/common/oauth2/v2.0/authorize",
			TokenURL: sbURL + "/common/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	linked := &apptest.Linked{Server: srv, SandboxURL: sbURL}
	back, _ := url.Parse(linked.AtMicrosoft(t, cfg.AuthCodeURL("s"), "alex@contoso.test", "accept"))
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Store.PutLink(ctx, &graphgate.Link{UserID: u.ID, TenantID: "t", ObjectID: "o", Username: "alex@contoso.test",
		DisplayName: "Alex", RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, AccessExpiresAt: tok.Expiry}); err != nil {
		t.Fatal(err)
	}
	l := &apptest.Linked{Server: srv}
	s := connect(t, l, agentToken(t, l, u.ID, false), "")
	var out struct {
		UploadURL string `json:"upload_url"`
	}
	call(t, s, "upload_file", map[string]any{"path": "/Recordings/all-hands.bin", "large": true}, &out)

	// Sample the heap while 100 MB stream through.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
		}
	}()
	const size = 100 << 20
	status, body := putUpload(t, out.UploadURL, size)
	close(stop)
	<-done
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, body)
	}
	var item struct {
		Size int64 `json:"size"`
	}
	_ = json.Unmarshal([]byte(body), &item)
	if item.Size != size {
		t.Fatalf("OneDrive has %d bytes, want %d", item.Size, size)
	}
	growth := int64(peak) - int64(base)
	t.Logf("heap growth during a 100 MB upload: %.1f MB (chunk %d KiB)", float64(growth)/(1<<20), 10*320)
	if growth > 48<<20 {
		t.Fatalf("the heap grew by %d MB while streaming 100 MB: not bounded", growth>>20)
	}
}

// TestLargeAttachments: a draft takes files of 3 MB to 150 MB through
// one-time upload links streamed into Outlook's attachment upload
// session; the draft then goes with its attachments.
func TestLargeAttachments(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "")
	var draft struct {
		ID      string `json:"id"`
		Uploads []struct {
			Name      string `json:"name"`
			UploadURL string `json:"upload_url"`
		} `json:"uploads"`
	}
	res := call(t, s, "create_draft", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Big files", "body": "See attached",
		"large_attachments": []map[string]string{{"name": "site-survey.pdf", "content_type": "application/pdf"}, {"name": "photos.zip"}}}, &draft)
	if res.IsError || len(draft.Uploads) != 2 || draft.Uploads[0].Name != "site-survey.pdf" {
		t.Fatalf("create_draft: %s %+v", errorText(res), draft)
	}
	const size = 7<<20 + 12345 // several chunks and a short last one
	if status, body := putUpload(t, draft.Uploads[0].UploadURL, size); status != http.StatusCreated || !strings.Contains(body, "send_draft") {
		t.Fatalf("upload: %d %s", status, body)
	}
	// Once only; too small and too large refused before anything is read.
	if status, _ := putUpload(t, draft.Uploads[0].UploadURL, size); status != http.StatusNotFound {
		t.Fatalf("second use: %d", status)
	}
	if status, _ := putUpload(t, draft.Uploads[1].UploadURL, 1<<20); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 MB file through the link: %d", status)
	}
	// The refusal did not spend the link: the right file still goes.
	if status, body := putUpload(t, draft.Uploads[1].UploadURL, 3<<20); status != http.StatusCreated {
		t.Fatalf("the right file after a refused one: %d %s", status, body)
	}
	var more struct {
		Uploads []struct {
			UploadURL string `json:"upload_url"`
		} `json:"uploads"`
	}
	if res := call(t, s, "update_draft", map[string]any{"id": draft.ID, "large_attachments": []map[string]string{{"name": "photos.zip"}}}, &more); res.IsError || len(more.Uploads) != 1 {
		t.Fatalf("update_draft: %s", errorText(res))
	}
	if status, _ := putUpload(t, more.Uploads[0].UploadURL, 151<<20); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 151 MB file: %d", status)
	}
	for _, bad := range []map[string]string{{"name": ""}, {"name": "a/b.txt"}, {"name": "x.txt", "content_type": "text plain"}, {"name": "x\r\n.txt"}} {
		if res := call(t, s, "create_draft", map[string]any{"subject": "bad", "large_attachments": []map[string]string{bad}}, nil); !res.IsError {
			t.Errorf("accepted large attachment %v", bad)
		}
	}
	if res := call(t, s, "send_draft", map[string]any{"id": draft.ID}, nil); res.IsError {
		t.Fatal(errorText(res))
	}
	mb, _ := l.Sandbox.Graph.Store().MailboxByAddress("sam@fabrikam.test")
	var got *graph.Message
	for _, m := range mb.Messages() {
		if m.Subject == "Big files" {
			got = m
		}
	}
	if got == nil || len(got.Attachments) != 2 {
		t.Fatalf("delivered: %+v", got)
	}
	a := got.Attachments[0]
	want, _ := io.ReadAll(&pattern{n: size})
	if a.Name != "site-survey.pdf" || a.ContentType != "application/pdf" || string(a.ContentBytes) != string(want) {
		t.Fatalf("attachment %q %q, %d bytes", a.Name, a.ContentType, len(a.ContentBytes))
	}
}

// TestSendMessageWithLargeAttachments: send_message with large files saves
// a draft, gives an upload link per file, and the upload that brings the
// last file sends the message, exactly once however the uploads race.
func TestSendMessageWithLargeAttachments(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)
	s := connect(t, l, token, "")
	sam, _ := l.Sandbox.Graph.Store().MailboxByAddress("sam@fabrikam.test")
	delivered := func(subject string) (out []*graph.Message) {
		for _, m := range sam.Messages() {
			if m.Subject == subject {
				out = append(out, m)
			}
		}
		return out
	}
	type sent struct {
		Sent    bool   `json:"sent"`
		DraftID string `json:"draft_id"`
		Uploads []struct {
			Name      string `json:"name"`
			UploadURL string `json:"upload_url"`
		} `json:"uploads"`
	}
	var out sent
	res := call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Survey results", "body": "All three files.",
		"attachments":       []map[string]string{{"name": "notes.txt", "content_base64": "bm90ZXM="}},
		"large_attachments": []map[string]string{{"name": "survey.pdf", "content_type": "application/pdf"}, {"name": "photos.zip"}}}, &out)
	if res.IsError || out.Sent || out.DraftID == "" || len(out.Uploads) != 2 || !strings.Contains(errorText(res), "Not sent yet") {
		t.Fatalf("send_message: %s %+v", errorText(res), out)
	}
	if got := delivered("Survey results"); len(got) != 0 {
		t.Fatal("sent before its large attachments arrived")
	}

	// The first file: attached, not sent. Then the second, racing a
	// replay of the first link (refused: links work once).
	const first, second = 3<<20 + 1, 4 << 20
	if status, body := putUpload(t, out.Uploads[0].UploadURL, first); status != http.StatusCreated || !strings.Contains(body, `"sent":false`) || !strings.Contains(body, "other 1") {
		t.Fatalf("first upload: %d %s", status, body)
	}
	if got := delivered("Survey results"); len(got) != 0 {
		t.Fatal("sent with one large attachment still to come")
	}
	var wg sync.WaitGroup
	var replay int
	var last string
	wg.Go(func() { replay, _ = putUpload(t, out.Uploads[0].UploadURL, first) })
	wg.Go(func() {
		var status int
		status, last = putUpload(t, out.Uploads[1].UploadURL, second)
		if status != http.StatusCreated {
			t.Errorf("last upload: %d %s", status, last)
		}
	})
	wg.Wait()
	if replay != http.StatusNotFound || !strings.Contains(last, `"sent":true`) {
		t.Fatalf("replay %d; last upload: %s", replay, last)
	}
	got := delivered("Survey results")
	if len(got) != 1 || len(got[0].Attachments) != 3 {
		t.Fatalf("delivered %d copies: %+v", len(got), got)
	}
	sizes := map[string]int{}
	for _, a := range got[0].Attachments {
		sizes[a.Name] = len(a.ContentBytes)
	}
	if sizes["notes.txt"] != 5 || sizes["survey.pdf"] != first || sizes["photos.zip"] != second {
		t.Fatalf("attachments: %v", sizes)
	}
	// The send is audited as send_message, after the uploads.
	var events []*graphgate.AuditEvent
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		events, _, _ = l.App.Store.ListAudit(context.Background(), graphgate.AuditFilter{Action: "mcp.tool_call"})
		if len(events) >= 2 {
			break
		}
	}
	if len(events) < 2 || events[0].Target != "send_message" || events[0].Details["after"] != "uploads" || events[0].Details["outcome"] != "ok" {
		t.Fatalf("audit: %+v", events)
	}

	// Revoking the token before the files arrive: the links end, and the
	// draft is never sent.
	res = call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Never sent", "body": "x",
		"large_attachments": []map[string]string{{"name": "big.bin"}}}, &out)
	if res.IsError {
		t.Fatal(errorText(res))
	}
	tok, err := l.App.Store.APITokenByHash(context.Background(), apitoken.Hash(token))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.App.Store.RevokeAPIToken(context.Background(), alex, tok.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := putUpload(t, out.Uploads[0].UploadURL, first); status != http.StatusNotFound {
		t.Fatalf("upload after the token was revoked: %d", status)
	}
	if got := delivered("Never sent"); len(got) != 0 {
		t.Fatal("sent after the token was revoked")
	}
}
