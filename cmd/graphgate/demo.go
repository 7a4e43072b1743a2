package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/app"
	"graphgate/internal/config"
	"graphgate/internal/microsoft365"
	"graphgate/internal/password"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
)

// runDemo runs graphgate with the sandbox tenant in the same process: the
// sandbox on its own port, graphgate configured to use it, and accounts for
// the sandbox's people.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "Run graphgate with the embedded Microsoft 365 sandbox: no Entra app needed.\nThe data folder has the same layout as serve's, so other commands work against it\n(GRAPHGATE_DATA_DIR=<folder> graphgate tokens create ...).", stdout, stderr)
	addr := fs.String("addr", "localhost:8080", "graphgate's address")
	sandboxAddr := fs.String("sandbox-addr", "localhost:9000", "the sandbox's address")
	dataDir := fs.String("data-dir", "", "data folder (default: a new temporary folder)")
	pw := fs.String("password", "demo", "password of every demo account")
	caps := fs.String("capabilities", "all", "capabilities to turn on: all, none, or names separated by commas ("+capabilityNames()+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	capsGiven := false
	fs.Visit(func(f *flag.Flag) { capsGiven = capsGiven || f.Name == "capabilities" })
	capabilities, err := capabilitiesFlag(*caps)
	if err != nil {
		return err
	}
	if *pw == "" {
		return errors.New("--password must not be empty")
	}
	kept := "kept"
	if *dataDir == "" {
		d, err := os.MkdirTemp("", "graphgate-demo-")
		if err != nil {
			return err
		}
		*dataDir, kept = d, "removed when the demo stops"
		// Runs last, after the store is closed.
		defer os.RemoveAll(d)
	}
	appLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("graphgate's port: %w", err)
	}
	sbLn, err := net.Listen("tcp", *sandboxAddr)
	if err != nil {
		appLn.Close()
		return fmt.Errorf("the sandbox's port: %w", err)
	}
	base := "http://" + displayAddr(appLn.Addr().String(), *addr)
	sbBase := "http://" + displayAddr(sbLn.Addr().String(), *sandboxAddr)
	callback := base + config.CallbackPath

	sb, err := sandbox.New(sandbox.Options{RedirectURIs: []string{callback}})
	if err != nil {
		return err
	}
	sbSrv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sbSrv.Serve(sbLn) }()
	defer sbSrv.Close()

	env := map[string]string{
		"GRAPHGATE_BASE_URL":       base,
		"GRAPHGATE_DATA_DIR":       *dataDir,
		"GRAPHGATE_M365_LOGIN_URL": sbBase,
		"GRAPHGATE_M365_GRAPH_URL": sbBase,
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}, nil)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	a, err := app.Open(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Web.Admin()
	if _, err := a.Store.M365Config(ctx); graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		if _, err := svc.ConfigureM365(ctx, nil, microsoft365.Setup{ClientID: sandbox.DefaultClientID,
			ClientSecret: sandbox.DefaultClientSecret, RedirectURI: callback}); err != nil {
			return fmt.Errorf("configuring Microsoft 365: %w", err)
		}
		capsGiven = true // a new demo starts with them
	}
	if capsGiven {
		if _, err := svc.SetCapabilities(ctx, nil, capabilities); err != nil {
			return fmt.Errorf("turning capabilities on: %w", err)
		}
	}
	// Sign in with Microsoft for everyone in the sandbox, so that Nina, who
	// has no account, shows a first sign-in creating one.
	if rules, err := a.Store.SignInSettings(ctx); err == nil && rules.UpdatedAt.IsZero() {
		if _, err := svc.SetSignInSettings(ctx, nil, cfg.M365Authority, admin.SignInForm{Microsoft: true, Who: graphgate.SignInTenants,
			Tenants: directory.Contoso.ID + "," + directory.Fabrikam.ID, Personal: true, AdminEmails: "admin@contoso.test", Passwords: true}); err != nil {
			return fmt.Errorf("setting the sign-in rules: %w", err)
		}
	}
	for _, p := range sb.Directory.People() {
		if p.NewToGraphgate {
			continue // Sign in with Microsoft creates them
		}
		role := graphgate.RoleUser
		if p.UPN == "admin@contoso.test" {
			role = graphgate.RoleAdmin
		}
		// Demo accounts share one short password, below the policy that
		// admin-made accounts follow, so they are made in the store directly.
		hash, err := password.Hash(*pw)
		if err != nil {
			return err
		}
		err = a.Store.CreateUser(ctx, &graphgate.User{Email: p.UPN, Name: p.DisplayName, Role: role, PasswordHash: hash})
		if err != nil && graphgate.ErrorCode(err) != graphgate.ECONFLICT {
			return fmt.Errorf("creating %s: %w", p.UPN, err)
		}
	}
	fmt.Fprintf(stdout, "graphgate demo\n\n  Open %s and sign in with one of these accounts (password %q):\n", base, *pw)
	for _, p := range sb.Directory.People() {
		if p.NewToGraphgate {
			continue
		}
		role := "user"
		if p.UPN == "admin@contoso.test" {
			role = "admin"
		}
		fmt.Fprintf(stdout, "    %-22s %-5s %s\n", p.UPN, role, p.DisplayName)
	}
	for _, p := range sb.Directory.People() {
		switch {
		case p.NewToGraphgate && p.Mail != "":
			fmt.Fprintf(stdout, "    %-22s %-5s %s: her email claim says %s, unverified; she signs in as herself, never as that admin\n",
				p.UPN, "", p.DisplayName, p.Mail)
		case p.NewToGraphgate:
			fmt.Fprintf(stdout, "    %-22s %-5s %s: no account yet; click Sign in with Microsoft\n", p.UPN, "", p.DisplayName)
		}
	}
	for _, m := range sb.Directory.SharedMailboxes() {
		fmt.Fprintf(stdout, "    %-22s %-5s %s: a shared mailbox; %s may open it (shared_mailboxes)\n", m.UPN, "", m.DisplayName,
			strings.Join(m.FullAccess, " and "))
	}
	fmt.Fprintf(stdout, "\n  Sign in with Microsoft works for every sandbox person (one consent signs in and links).\n")
	if m, err := a.Store.M365Config(ctx); err == nil {
		on := strings.Join(m.Capabilities, ", ")
		if on == "" {
			on = "none (--capabilities all turns them on)"
		}
		fmt.Fprintf(stdout, "  Capabilities on:       %s (each person allows them on their Microsoft 365 tile)\n", on)
		if waiting := graphgate.AwaitingAdmin(m.Capabilities, nil, false); len(waiting) > 0 {
			var names []string
			for _, c := range waiting {
				names = append(names, c.Name)
			}
			fmt.Fprintf(stdout, "                         %s: part only an admin may grant (admin@contoso.test, MCP Servers tab,\n"+
				"                         Grant for my organisation at Microsoft)\n", strings.Join(names, ", "))
		}
	}
	fmt.Fprintf(stdout, "  MCP endpoint:          %s/mcp (paste it into an MCP client, or use an agent token)\n", base)
	fmt.Fprintf(stdout, "  Microsoft 365 sandbox: %s (control API %s/sandbox/)\n", sbBase, sbBase)
	fmt.Fprintf(stdout, "  Data folder:           %s (%s)\n\n  Press Ctrl+C to stop.\n", *dataDir, kept)
	return a.Serve(ctx, appLn)
}

func capabilityNames() string { return strings.Join(graphgate.CapabilityNames(), ", ") }

// capabilitiesFlag reads --capabilities: all, none, or names.
func capabilitiesFlag(v string) ([]string, error) {
	switch strings.TrimSpace(v) {
	case "all":
		return graphgate.CapabilityNames(), nil
	case "none", "":
		return []string{}, nil
	}
	var out []string
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if _, ok := graphgate.CapabilityNamed(n); !ok {
			return nil, fmt.Errorf("--capabilities: unknown capability %q (choose from all, none, %s)", n, capabilityNames())
		}
		out = append(out, n)
	}
	return out, nil
}
