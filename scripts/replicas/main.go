// Command replicas runs three graphgate processes on one PostgreSQL behind a
// loopback load balancer and loads them with tool calls from many agent
// tokens while each replica in turn is stopped with SIGTERM (it drains its
// calls) and started again, and while every access token expires, once in
// graphgate's database and once at Microsoft. It reports failed calls
// (target 0), refreshes per expired token (target exactly 1) and latency.
//
//	go run ./scripts/replicas [-duration 60s] [-rate 200] [-database-url postgres://...]
//
// Without -database-url it uses GRAPHGATE_TEST_POSTGRES_URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"graphgate/internal/proctest"
)

func main() {
	run := proctest.ReplicaRun{Log: os.Stdout}
	flag.DurationVar(&run.Duration, "duration", 60e9, "how long the load runs")
	flag.IntVar(&run.Rate, "rate", 200, "tool calls per second")
	flag.IntVar(&run.Replicas, "replicas", 3, "graphgate processes")
	flag.IntVar(&run.TokensEach, "tokens", 10, "agent tokens per person")
	flag.DurationVar(&run.Drain, "drain", 2e9, "GRAPHGATE_DRAIN_DELAY of each replica")
	flag.StringVar(&run.Postgres, "database-url", os.Getenv("GRAPHGATE_TEST_POSTGRES_URL"), "a PostgreSQL server URL (a fresh database is made on it)")
	flag.Parse()
	if run.Postgres == "" {
		log.Fatal("give -database-url postgres://... (or GRAPHGATE_TEST_POSTGRES_URL)")
	}
	tmp, err := os.MkdirTemp("", "graphgate-replicas-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin, err := proctest.Build(tmp)
	if err != nil {
		log.Fatal(err)
	}
	report, err := run.Run(context.Background(), bin, tmp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)
	if report.Failed > 0 || report.RefreshesPerEach != 1 {
		os.Exit(1)
	}
}
