package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// app carries what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	// Global flags.
	configPath string
	dataDir    string
	server     string
	token      string
	tokenFile  string
	caFile     string
	certFile   string
	keyFile    string
	output     string

	// helpErr is the error of a --help that named an unknown subcommand
	// (the help function cannot return one).
	helpErr error
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		err = a.helpErr
	}
	if err != nil {
		printError(stderr, err)
	}
	return exitCode(err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "stratus",
		Short: "Authoritative DNS that follows the health of your serverless endpoints",
		Long: `Stratus is an authoritative DNS server with an HTTP API.

Run a server:        stratus serve --demo
Manage it from here: stratus zone list, stratus record add ..., stratus zone import ...

The client commands find the API and its token from flags, then environment
variables (STRATUS_SERVER, STRATUS_TOKEN, STRATUS_TOKEN_FILE, STRATUS_DATA_DIR,
STRATUS_CONFIG), then the config file, then the defaults: the server at
http://127.0.0.1:8053 and the admin token in ./stratus-data/admin.token.
An https:// server is verified with --ca-file (STRATUS_CA_FILE,
client.ca_file; default the system roots); --cert-file and --key-file
(STRATUS_CERT_FILE, STRATUS_KEY_FILE) present a client certificate.

` + exitCodeHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%v (see '%s --help')", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "config file (YAML; env STRATUS_CONFIG)")
	pf.StringVar(&a.dataDir, "data-dir", "", "data directory (env STRATUS_DATA_DIR; default ./stratus-data)")
	pf.StringVar(&a.server, "server", "", "API base URL for client commands (env STRATUS_SERVER; default http://127.0.0.1:8053)")
	pf.StringVar(&a.token, "token", "", "API bearer token (env STRATUS_TOKEN; prefer the env or --token-file, flags show in ps)")
	pf.StringVar(&a.tokenFile, "token-file", "", "file holding the API token (env STRATUS_TOKEN_FILE; default <data-dir>/admin.token)")
	pf.StringVar(&a.caFile, "ca-file", "", "CA certificates (PEM) that verify an https:// API server (env STRATUS_CA_FILE; default the system roots)")
	pf.StringVar(&a.certFile, "cert-file", "", "client certificate (PEM) for an API that asks for one (env STRATUS_CERT_FILE; with --key-file)")
	pf.StringVar(&a.keyFile, "key-file", "", "the client certificate's key (PEM) (env STRATUS_KEY_FILE)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")

	root.AddCommand(a.serveCommand(), a.versionCommand(), a.zoneCommand(), a.recordCommand(), a.tokenCommand(),
		a.serviceCommand(), a.poolCommand(), a.endpointCommand(), a.eventsCommand(), a.statusCommand(), a.clusterCommand(), a.tsigCommand(), a.drillCommand(), a.storeCommand(), a.auditCommand(),
		a.webhookCommand())
	// cobra adds these when it runs; added now, they get the same checks.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		// "stratus service aply --help" names no command: say so rather
		// than print the parent's help.
		if rest := c.Flags().Args(); c.HasSubCommands() && len(rest) > 0 {
			a.helpErr = unknownCommand(c, rest[0])
			return
		}
		defaultHelp(c, args)
	})
	prepareTree(root)
	return root
}

// prepareTree makes every command that groups subcommands print its help
// when called alone and refuse an unknown subcommand (cobra's default is to
// print the help and succeed), and turns argument errors into usage errors.
func prepareTree(c *cobra.Command) {
	if c.HasSubCommands() {
		c.Args = cobra.ArbitraryArgs
		c.Run = nil
		c.RunE = groupRun
	} else {
		addArgsCheck(c)
	}
	for _, sub := range c.Commands() {
		prepareTree(sub)
	}
}

// groupRun makes a command that only groups subcommands print its help
// when called alone and fail with a usage error on an unknown subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the usage error for a subcommand cmd does not have,
// with the likeliest ones meant.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	// The nearest names only: one typo before two.
	var s []string
	for d := 1; d <= 2 && len(s) == 0; d++ {
		cmd.SuggestionsMinimumDistance = d
		s = cmd.SuggestionsFor(name)
	}
	if len(s) > 0 {
		q := make([]string, len(s))
		for i, n := range s {
			q[i] = strconv.Quote(n)
		}
		msg += "; did you mean " + strings.Join(q, " or ") + "?"
	}
	return usagef("%s (see '%s --help')", msg, cmd.CommandPath())
}

// addArgsCheck turns cobra's argument errors into usage errors.
func addArgsCheck(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usagef("%v; usage: %s", err, cmd.UseLine())
			}
			return nil
		}
	}
}
