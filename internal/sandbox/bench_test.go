package sandbox_test

import (
	"io"
	"net/http"
	"testing"

	"graphgate/internal/sandbox"
)

// BenchmarkGraphList measures Graph list requests per second over real HTTP
// on loopback, client and server in one process. The target is at least
// 2,000 requests per second on a 2-core machine:
//
//	go test -run '^$' -bench GraphList -benchtime 5s ./internal/sandbox/
func BenchmarkGraphList(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"inbox-page", "/v1.0/me/mailFolders/inbox/messages"},
		{"inbox-select", "/v1.0/me/mailFolders/inbox/messages?$select=subject,from,receivedDateTime&$top=25"},
		{"calendarView", "/v1.0/me/calendarView?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"},
		{"drive-children", "/v1.0/me/drive/root/children"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tn := startTenant(b, sandbox.Options{})
			tok := tn.link("alex@contoso.test").AccessToken
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.ResetTimer()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", tn.URL+bc.path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
