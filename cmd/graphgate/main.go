// Command graphgate is a self-hosted Microsoft 365 connector for AI agents.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"graphgate"
	"graphgate/internal/version"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"serve":       {"run graphgate (configuration from GRAPHGATE_* variables)", runServe},
	"config":      {"print the effective configuration, secrets redacted", runConfig},
	"users":       {"create people from the command line: users create --email E [--admin]", runUsers},
	"tokens":      {"create API tokens: tokens create --user EMAIL --name NAME [--admin]", runTokens},
	"rotate-key":  {"re-encrypt stored secrets under the newest encryption key", runRotateKey},
	"sandbox":     {"run the Microsoft 365 sandbox tenant (identity platform and Graph) alone", runSandbox},
	"demo":        {"run graphgate with the embedded Microsoft 365 sandbox on http://localhost:8080", runDemo},
	"version":     {"print the version", runVersion},
	"healthcheck": {"exit 0 when the local graphgate answers /healthz (for container health checks)", runHealthcheck},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var u usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, "graphgate:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "graphgate:", said(err))
		os.Exit(1)
	}
}

// said is an error as the command line says it: a domain error by its
// message alone, so that no "graphgate:" prefix is said twice.
func said(err error) string {
	var ge *graphgate.Error
	if errors.As(err, &ge) && err.Error() == ge.Error() {
		return ge.Message
	}
	return err.Error()
}

// usageError is a command line graphgate cannot run: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usageError{"no command given"}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "graphgate: a self-hosted Microsoft 365 connector for AI agents.")
	fmt.Fprintln(w, "\nUsage: graphgate <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'graphgate <command> --help' for a command's flags.")
}

// newFlagSet returns a flag set that prints its usage to stdout on --help
// and says nothing itself on a mistake: parse reports it, once.
func newFlagSet(name, synopsis string, stdout, _ io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if !hasFlags {
			fmt.Fprintf(stdout, "Usage: graphgate %s\n\n%s\n", name, synopsis)
			return
		}
		fmt.Fprintf(stdout, "Usage: graphgate %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse reads a command's flags; anything else on the line is a mistake,
// not something to ignore.
func parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage on every mistake; only --help
	// should.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		return usageError{fmt.Sprintf("%s: %v (see graphgate %s --help)", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (see graphgate %s --help)", fs.Name(), fs.Arg(0), fs.Name())}
	}
	return nil
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "Print graphgate's version.", stdout, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "graphgate", version.String())
	return nil
}
