package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// runHealthcheck asks a running graphgate's /healthz, for container
// HEALTHCHECKs: the image has no shell or curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "Exit 0 when the graphgate listening on GRAPHGATE_ADDR (or --addr, or at --url) answers /healthz.", stdout, stderr)
	addr := fs.String("addr", "", "the address graphgate listens on (GRAPHGATE_ADDR, default :8080)")
	target := fs.String("url", "", "graphgate's URL instead, such as http://127.0.0.1:8080 (/healthz is added)")
	if err := parse(fs, args); err != nil {
		return err
	}
	base := strings.TrimSuffix(strings.TrimRight(*target, "/"), "/healthz")
	if base == "" {
		listen := *addr
		if listen == "" {
			listen = os.Getenv("GRAPHGATE_ADDR")
		}
		if listen == "" {
			listen = ":8080"
		}
		_, port, err := net.SplitHostPort(listen)
		if err != nil {
			return fmt.Errorf("GRAPHGATE_ADDR %q: not host:port", listen)
		}
		base = "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/healthz answered %d", base, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
