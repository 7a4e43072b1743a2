package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"graphgate/internal/sandbox"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sandbox", "Serve the Microsoft 365 sandbox tenant: the identity platform v2.0 and Microsoft Graph v1.0\non one origin, with seeded people, mail, calendars and files, and the /sandbox/ control API.", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	opts, err := sandboxFlags(fs, args)
	if err != nil {
		return err
	}
	return serveSandbox(ctx, *addr, opts, stdout)
}

func sandboxFlags(fs *flag.FlagSet, args []string) (sandbox.Options, error) {
	var redirects stringList
	clientID := fs.String("client-id", sandbox.DefaultClientID, "the registered app's client ID")
	secret := fs.String("client-secret", sandbox.DefaultClientSecret, "the registered app's client secret")
	expires := fs.String("secret-expires", "", "when the client secret expires (YYYY-MM-DD or RFC 3339); empty: never")
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI (repeatable; default "+sandbox.DefaultRedirectURI+")")
	single := fs.Bool("single-tenant", false, "register the app as single-tenant (Contoso only) instead of multi-tenant")
	ttl := fs.Duration("access-token-ttl", 0, "fixed access token lifetime, such as 2m; 0 means 60-90 minutes as on Microsoft")
	seed := fs.Uint64("seed", sandbox.DefaultSeed, "seed for the generated mail, events and files")
	var roles stringList
	fs.Var(&roles, "app-role", "assign an app role, UPN=value such as admin@contoso.test=graphgate.admin (repeatable)")
	assignment := fs.Bool("require-assignment", false, "refuse people who have no app role (AADSTS50105)")
	if err := parse(fs, args); err != nil {
		return sandbox.Options{}, err
	}
	if fs.NArg() > 0 {
		return sandbox.Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	opts := sandbox.Options{ClientID: *clientID, ClientSecret: *secret, RedirectURIs: redirects,
		SingleTenant: *single, AccessTokenTTL: *ttl, Seed: *seed, RequireAssignment: *assignment, AppRoles: map[string][]string{}}
	for _, r := range roles {
		upn, value, ok := strings.Cut(r, "=")
		if !ok || upn == "" || value == "" {
			return opts, fmt.Errorf("--app-role: %q is not UPN=value", r)
		}
		opts.AppRoles[upn] = append(opts.AppRoles[upn], value)
	}
	if *expires != "" {
		t, err := time.Parse("2006-01-02", *expires)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *expires); err != nil {
				return opts, fmt.Errorf("--secret-expires: %q is neither YYYY-MM-DD nor RFC 3339", *expires)
			}
		}
		opts.SecretExpires = t
	}
	if *ttl < 0 {
		return opts, errors.New("--access-token-ttl must not be negative")
	}
	return opts, nil
}

func serveSandbox(ctx context.Context, addr string, opts sandbox.Options, stdout io.Writer) error {
	sb, err := sandbox.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + displayAddr(ln.Addr().String(), addr)
	printBanner(stdout, base, sb)
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// displayAddr keeps the host the user asked for (localhost stays localhost)
// with the port actually bound.
func displayAddr(bound, asked string) string {
	host, _, err := net.SplitHostPort(asked)
	_, port, err2 := net.SplitHostPort(bound)
	if err != nil || err2 != nil {
		return bound
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func printBanner(w io.Writer, base string, sb *sandbox.Sandbox) {
	app := sb.Identity.App()
	kind := "multi-tenant (work, school and personal accounts)"
	if app.SingleTenant {
		kind = "single-tenant (Contoso only)"
	}
	fmt.Fprintf(w, "Microsoft 365 sandbox tenant at %s\n\n", base)
	fmt.Fprintf(w, "  Login URL (authority host):  %s        e.g. %s/common/oauth2/v2.0/authorize\n", base, base)
	fmt.Fprintf(w, "  Graph URL:                   %s (API under /v1.0)\n", base)
	fmt.Fprintf(w, "  Control API:                 %s/sandbox/\n\n", base)
	fmt.Fprintf(w, "Registered app (%s)\n", kind)
	fmt.Fprintf(w, "  Client ID:      %s\n", app.ClientID)
	for _, s := range app.Secrets {
		exp := "never expires"
		if !s.Expires.IsZero() {
			exp = "expires " + s.Expires.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  Client secret:  %s  (%s)\n", s.Value, exp)
	}
	for _, u := range app.RedirectURIs {
		fmt.Fprintf(w, "  Redirect URI:   %s\n", u)
	}
	fmt.Fprintln(w, "\nPeople (pick one on the sign-in page; no password)")
	for _, p := range sb.Directory.People() {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintln(w)
}
