package proctest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"graphgate/internal/proctest"
)

// TestReplicasUnderRestartsAndExpiry is scripts/replicas, shorter: three
// replicas on one PostgreSQL behind a load balancer, each stopped with
// SIGTERM and started again under load, every access token expiring twice.
// No call may fail, and each expiry costs exactly one refresh per person.
func TestReplicasUnderRestartsAndExpiry(t *testing.T) {
	base := os.Getenv("GRAPHGATE_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES_URL is not set; ./scripts/test sets it")
	}
	tmp := t.TempDir()
	bin, err := proctest.Build(tmp)
	if err != nil {
		t.Fatal(err)
	}
	run := proctest.ReplicaRun{Postgres: base, Replicas: 3, Duration: 12 * time.Second, Rate: 60, TokensEach: 3, Drain: time.Second, Log: testWriter{t}}
	report, err := run.Run(context.Background(), bin, tmp)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(report)
	if report.Failed != 0 || report.Restarts != 3 || report.ExpiryEvents != 2 || report.RefreshesPerEach != 1 {
		t.Fatalf("want no failed call, 3 restarts and one refresh per expired token: %s", report)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
