package mcpserver_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/storetest"
)

// rawToolCall calls get_profile and returns the status and body.
func rawToolCall(t *testing.T, l *apptest.Linked, token string) (int, string) {
	t.Helper()
	status, body, err := apptest.ToolCall(http.DefaultClient, l.URL, token, "get_profile", "")
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func readyz(t *testing.T, l *apptest.Linked) int {
	t.Helper()
	resp, err := http.Get(l.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// PostgreSQL stopping mid-request: the call in flight ends cleanly, calls
// meanwhile answer 503 (never a panic or a 500), /readyz fails, and all of
// it recovers when the database is back.
func TestFaultMatrixPostgresStops(t *testing.T) {
	base := apptest.PostgresURL()
	if base == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES_URL is not set; ./scripts/test sets it")
	}
	dsn, _ := url.Parse(storetest.FreshPostgresDB(t, base))
	proxy := apptest.NewTCPProxy(t, dsn.Host)
	dsn.Host = proxy.Addr()
	l := apptest.StartWithSandbox(t, map[string]string{"GRAPHGATE_DATABASE_URL": dsn.String(),
		"GRAPHGATE_ENCRYPTION_KEY": "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="}, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, true)
	if status, body := rawToolCall(t, l, token); status != 200 || strings.Contains(body, `"isError":true`) {
		t.Fatalf("before: %d %s", status, body)
	}

	// A call in flight (its Graph request delayed) when the database stops;
	// its token refresh has to write.
	expireAccess(t, l, alex)
	trouble(t, l, "/sandbox/faults", `{"path":"/oauth2/v2.0/token$","delay":"500ms","times":1}`)
	refreshes := l.Sandbox.Requests()["grant_type=refresh_token"]
	var wg sync.WaitGroup
	var inflight int
	var inflightBody string
	var inflightErr error
	wg.Go(func() {
		inflight, inflightBody, inflightErr = apptest.ToolCall(http.DefaultClient, l.URL, token, "get_profile", "")
	})
	// Cut the database once the call is at the token endpoint (delayed
	// there): its refresh holds the link and must write when it returns.
	for deadline := time.Now().Add(10 * time.Second); l.Sandbox.Requests()["grant_type=refresh_token"] == refreshes; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the token endpoint")
		}
	}
	proxy.Cut()
	wg.Wait()
	if inflightErr != nil || inflight != 200 || !strings.Contains(inflightBody, `"jsonrpc"`) {
		t.Fatalf("the call in flight: %d %s %v", inflight, inflightBody, inflightErr)
	}
	if status, body := rawToolCall(t, l, token); status != http.StatusServiceUnavailable {
		t.Fatalf("while the database is down: %d %s", status, body)
	}
	if got := readyz(t, l); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz while down: %d", got)
	}

	proxy.Restore()
	var status int
	var body string
	for range 50 {
		if status, body = rawToolCall(t, l, token); status == 200 && !strings.Contains(body, `"isError":true`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != 200 || strings.Contains(body, `"isError":true`) {
		t.Fatalf("after the database came back: %d %s", status, body)
	}
	if got := readyz(t, l); got != http.StatusOK {
		t.Fatalf("readyz after: %d", got)
	}
}

// SQLite busy: another writer holds the database; a call that must write
// (its token refresh) waits for it and then succeeds.
func TestFaultMatrixSQLiteBusy(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, true)
	expireAccess(t, l, alex)

	other, err := sql.Open("sqlite", "file:"+l.SQLitePath()+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE users SET name = name`); err != nil {
		t.Fatal(err)
	}
	committing, released := make(chan struct{}), make(chan struct{})
	go func() {
		time.Sleep(time.Second)
		close(committing)
		_ = tx.Commit()
		close(released)
	}()
	status, body := rawToolCall(t, l, token)
	// It waited: it could not have its answer before the other writer
	// began to let go of the database.
	select {
	case <-committing:
	default:
		t.Fatal("the call returned while another writer still held the database: it did not need to write, or did not wait")
	}
	<-released
	if status != 200 || !bytes.Contains([]byte(body), []byte(`"structuredContent"`)) {
		t.Fatalf("a call while another writer held the database: %d %s", status, body)
	}
}
