package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/app"
	"graphgate/internal/config"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
	"graphgate/internal/tracing"
)

// configFlags registers the common settings as flags; a flag wins over its
// environment variable.
type configFlags struct {
	addr, baseURL, dataDir, databaseURL string
}

func (cf *configFlags) register(fs *flag.FlagSet, withAddr bool) {
	if withAddr {
		fs.StringVar(&cf.addr, "addr", "", "address to listen on (GRAPHGATE_ADDR, default :8080)")
		fs.StringVar(&cf.baseURL, "base-url", "", "public URL of graphgate (GRAPHGATE_BASE_URL)")
	}
	fs.StringVar(&cf.dataDir, "data-dir", "", "data folder (GRAPHGATE_DATA_DIR, default ./data)")
	fs.StringVar(&cf.databaseURL, "database-url", "", "database (GRAPHGATE_DATABASE_URL; default SQLite in the data folder)")
}

func (cf *configFlags) load() (*config.Config, error) {
	over := map[string]string{}
	for name, v := range map[string]string{"GRAPHGATE_ADDR": cf.addr, "GRAPHGATE_BASE_URL": cf.baseURL,
		"GRAPHGATE_DATA_DIR": cf.dataDir, "GRAPHGATE_DATABASE_URL": cf.databaseURL} {
		if v != "" {
			over[name] = v
		}
	}
	return config.Load(os.LookupEnv, over)
}

// newLogger logs JSON lines, each with the trace and span ids of the
// request it belongs to.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(tracing.WithTraceIDs(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Run graphgate. Configuration comes from the environment:\n\n"+config.Help(), stdout, stderr)
	var cf configFlags
	cf.register(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", "Print the effective configuration, secrets redacted.", stdout, stderr)
	var cf configFlags
	cf.register(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	fmt.Fprint(stdout, cfg.Dump())
	return nil
}

// openStore opens the configured store for a one-off command.
func openStore(ctx context.Context, cf *configFlags, stderr io.Writer) (*sqlstore.Store, *config.Config, error) {
	cfg, err := cf.load()
	if err != nil {
		return nil, nil, fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(stderr, slog.LevelWarn)
	if err := app.PrepareDataDir(cfg, log); err != nil {
		return nil, nil, err
	}
	keys, err := app.Keyring(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.Open(ctx, cfg.DatabaseURL, keys, sqlstore.Options{})
	return s, cfg, err
}

// onlyCreate checks that a command with one subcommand, create, got it; it
// prints the command's help for --help and says how to call it otherwise.
func onlyCreate(name, synopsis, usage string, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "create" {
		return nil
	}
	if err := parse(newFlagSet(name, synopsis, stdout, stderr), args); err != nil {
		return err
	}
	return usageError{"usage: " + usage}
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := onlyCreate("users", "Manage people. Subcommands:\n  create --email E [--password P | --password-file F | password on standard input] [--name N] [--admin]",
		"graphgate users create --email E [--password P] [--admin]", args, stdout, stderr); err != nil {
		return err
	}
	fs := newFlagSet("users create", "Create a person who can sign in, in the configured store. The password comes from\n--password, --password-file, or the first line of standard input.", stdout, stderr)
	var cf configFlags
	cf.register(fs, false)
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name")
	pw := fs.String("password", "", "password (visible to other local users in the process list; prefer --password-file)")
	pwFile := fs.String("password-file", "", "file holding the password")
	isAdmin := fs.Bool("admin", false, "make the person an admin")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	password, err := readPassword(*pw, *pwFile, os.Stdin)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, &cf, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	role := graphgate.RoleUser
	if *isAdmin {
		role = graphgate.RoleAdmin
	}
	u, err := admin.New(store, nil).CreateUser(ctx, nil, admin.NewUser{Email: *email, Name: *name, Password: password, Role: role})
	if fe := admin.FieldErrorsOf(err); fe != nil {
		var parts []string
		for k, v := range fe {
			parts = append(parts, k+": "+v)
		}
		return errors.New(strings.Join(parts, "; "))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s), id %d\n", u.Email, u.Role, u.ID)
	return nil
}

func readPassword(flagValue, file string, stdin io.Reader) (string, error) {
	switch {
	case flagValue != "" && file != "":
		return "", errors.New("give --password or --password-file, not both")
	case flagValue != "":
		return flagValue, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", errors.New("no password: use --password-file or pipe it on standard input")
	}
	return line, nil
}

func runRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rotate-key", "Re-encrypt every stored secret under the newest encryption key.\n\nWith GRAPHGATE_ENCRYPTION_KEY: put the new key first (\"new,old\"), run this, then drop the old key.\nWith the generated key file: --new-key adds a new key to the file first.", stdout, stderr)
	var cf configFlags
	cf.register(fs, false)
	newKey := fs.Bool("new-key", false, "add a new key to the data folder's key file before re-encrypting")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *newKey {
		cfg, err := cf.load()
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		if cfg.EncryptionKey != "" {
			return errors.New("--new-key works on the key file; with GRAPHGATE_ENCRYPTION_KEY, put the new key first yourself")
		}
		if _, _, err := secretbox.LoadOrCreateKeyFile(cfg.KeyFile()); err != nil {
			return err
		}
		if err := secretbox.PrependKeyFile(cfg.KeyFile()); err != nil {
			return err
		}
	}
	store, _, err := openStore(ctx, &cf, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Reencrypt(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted %d value(s) under the newest key\n", n)
	return nil
}

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := onlyCreate("tokens", "Manage API tokens. Subcommands:\n  create --user EMAIL --name NAME [--admin] [--read-only] [--confirm-writes] [--toolsets mail,files] [--expires 720h]",
		"graphgate tokens create --user EMAIL --name NAME [--admin]", args, stdout, stderr); err != nil {
		return err
	}
	fs := newFlagSet("tokens create", "Create an API token and print it once. --admin makes a token for the admin JSON API\n(its owner must be an admin); otherwise the token is for the user's agents.", stdout, stderr)
	var cf configFlags
	cf.register(fs, false)
	email := fs.String("user", "", "email of the token's owner (required)")
	name := fs.String("name", "", "what the token is for (required)")
	isAdmin := fs.Bool("admin", false, "a token for the admin JSON API")
	readOnly := fs.Bool("read-only", false, "agent token: only tools that change nothing")
	confirm := fs.Bool("confirm-writes", false, "agent token: sending and deleting wait for the person's yes, asked through the MCP client")
	toolsets := fs.String("toolsets", "", "agent token: comma-separated toolsets it may use (mail, calendar, files, profile); empty: all")
	expires := fs.Duration("expires", 0, "lifetime such as 720h; 0 means no expiry")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" || strings.TrimSpace(*name) == "" {
		return usageError{"tokens create: --user and --name are required"}
	}
	if *isAdmin && (*readOnly || *confirm || *toolsets != "") {
		// An admin API token has no toolsets: these would be ignored, and
		// the token would do more than its maker meant.
		return usageError{"tokens create: --read-only, --confirm-writes and --toolsets are for agent tokens; an --admin token has none of them"}
	}
	if *expires < 0 {
		return errors.New("--expires must not be negative")
	}
	store, _, err := openStore(ctx, &cf, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("no user %s", *email)
	}
	kind := graphgate.TokenAgent
	if *isAdmin {
		kind = graphgate.TokenAdmin
	}
	var sets []string
	for ts := range strings.SplitSeq(*toolsets, ",") {
		if ts = strings.TrimSpace(ts); ts != "" {
			sets = append(sets, ts)
		}
	}
	in := admin.NewToken{Kind: kind, Name: *name, ReadOnly: *readOnly, ConfirmWrites: *confirm, Toolsets: sets}
	if *expires > 0 {
		in.ExpiresAt = time.Now().Add(*expires).UTC()
	}
	token, _, err := admin.New(store, nil).MakeToken(ctx, nil, u, in)
	if err != nil {
		return errors.New(graphgate.ErrorMessage(err))
	}
	fmt.Fprintln(stdout, token)
	return nil
}
