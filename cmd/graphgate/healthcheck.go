package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks a running graphgate's /healthz, for container
// HEALTHCHECKs: the image has no shell or curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "Exit 0 when the graphgate listening on GRAPHGATE_ADDR (or --url) answers /healthz.", stdout, stderr)
	var cf configFlags
	cf.register(fs, true)
	target := fs.String("url", "", "graphgate's URL (default: http://127.0.0.1 on the port of GRAPHGATE_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := *target
	if base == "" {
		cfg, err := cf.load()
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		_, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return fmt.Errorf("GRAPHGATE_ADDR: %w", err)
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
