package proctest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/proctest"
	"graphgate/internal/sandbox"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
)

const testKey = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="

func getProfile(url, token string) (int, string, error) {
	return apptest.ToolCall(http.DefaultClient, url, token, "get_profile", "")
}

// TestKillDuringRefresh kills graphgate with SIGKILL while it refreshes a
// person's Microsoft tokens, at a random moment, restarts it, and checks
// that the person's link still works: no kill may lose the grant. The
// token endpoint is slowed so that kills land before Microsoft answers,
// while graphgate commits, and after; every third time the answer of
// Microsoft is lost on the way, as if graphgate died right after Microsoft
// rotated the refresh token. GRAPHGATE_KILL_LOOPS sets how many
// times (default 10; scripts/crash-loop runs 100).
func TestKillDuringRefresh(t *testing.T) {
	loops := 10
	if v, err := strconv.Atoi(os.Getenv("GRAPHGATE_KILL_LOOPS")); err == nil && v > 0 {
		loops = v
	}
	tmp := t.TempDir()
	bin, err := proctest.Build(tmp)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb)
	defer sbSrv.Close()
	addr, err := proctest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(tmp, "data")
	env := map[string]string{"GRAPHGATE_DATA_DIR": data, "GRAPHGATE_BASE_URL": "http://" + addr, "GRAPHGATE_ENCRYPTION_KEY": testKey,
		"GRAPHGATE_M365_LOGIN_URL": sbSrv.URL, "GRAPHGATE_M365_GRAPH_URL": sbSrv.URL, "GRAPHGATE_LOG_LEVEL": "warn"}
	people, err := proctest.Seed(context.Background(), env, sb, sbSrv.URL, []string{"alex@contoso.test"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	alex := people[0]
	keys, _ := secretbox.ParseKeys(testKey)
	ring, _ := secretbox.New(keys...)
	store, err := sqlstore.Open(context.Background(), filepath.Join(data, "graphgate.db"), ring, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	p, err := proctest.Start(bin, addr, env)
	if err != nil {
		t.Fatal(err)
	}
	var before, during, after int // where the kills landed
	for i := range loops {
		link, err := store.UpdateLink(context.Background(), alex.UserID, func(l *graphgate.Link) (*graphgate.Link, error) {
			l.AccessExpiresAt = time.Now().Add(-time.Minute) // due for a refresh
			return l, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		refreshes := sb.Requests()["grant_type=refresh_token"]
		// Each kill is steered into one window in turn, by what the
		// sandbox and the call have seen, not by sleeping.
		window := i % 3
		slow := sandbox.Fault{Path: "/oauth2/v2.0/token$", Delay: "200ms", Times: 1}
		if window == 1 {
			// Microsoft issues new tokens, but the answer never arrives: the
			// state a kill between its answer and the commit leaves.
			slow.Drop = "after"
		}
		if _, err := sb.AddFault(slow); err != nil {
			t.Fatal(err)
		}
		answered := make(chan struct{})
		go func() { _, _, _ = getProfile(p.URL, alex.AgentTokens[0]); close(answered) }()
		switch window {
		case 1: // once Microsoft has rotated the token
			for deadline := time.Now().Add(10 * time.Second); sb.Requests()["grant_type=refresh_token"] == refreshes && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		case 2: // once the call has its answer, the refresh committed
			select {
			case <-answered:
			case <-time.After(10 * time.Second):
			}
		}
		_ = p.Kill()

		now, err := store.Link(context.Background(), alex.UserID)
		if err != nil {
			t.Fatalf("kill %d: the link is gone: %v", i, err)
		}
		switch {
		case sb.Requests()["grant_type=refresh_token"] == refreshes:
			before++ // Microsoft had not answered yet
		case now.RefreshToken == link.RefreshToken:
			during++ // Microsoft answered, graphgate had not committed
		default:
			after++
		}

		sb.ClearFaults()
		if p, err = proctest.Start(bin, addr, env); err != nil {
			t.Fatalf("restart %d: %v", i, err)
		}
		status, body, err := getProfile(p.URL, alex.AgentTokens[0])
		if err != nil || status != 200 || strings.Contains(body, `"isError":true`) {
			t.Fatalf("after kill %d the link does not work: %d %v %s\n%s", i, status, err, body, p.Output())
		}
	}
	_ = p.Stop()
	t.Logf("%d kills: %d before Microsoft answered, %d between its answer and the commit, %d after; 0 lost grants", loops, before, during, after)
	if loops >= 3 && (before == 0 || during == 0 || after == 0) {
		t.Fatalf("a window was never hit: %d before, %d between, %d after", before, during, after)
	}
}
