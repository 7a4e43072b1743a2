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
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "graphgate:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
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

// newFlagSet returns a flag set that prints its usage to stdout on --help.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "Usage: graphgate %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	return fs
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "Print graphgate's version.", stdout, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "graphgate", version.String())
	return nil
}
