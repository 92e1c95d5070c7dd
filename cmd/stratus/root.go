package main

import (
	"context"
	"io"
	"os"
	"os/signal"
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
	output     string
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

` + exitCodeHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
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
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")

	root.AddCommand(a.serveCommand(), a.versionCommand(), a.zoneCommand(), a.recordCommand(), a.tokenCommand(),
		a.serviceCommand(), a.poolCommand(), a.endpointCommand(), a.eventsCommand(), a.tsigCommand(), a.drillCommand())
	for _, c := range root.Commands() {
		addArgsCheck(c)
	}
	return root
}

// groupRun makes a command that only groups subcommands print its help
// when called alone and fail with a usage error on an unknown subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return usagef("unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
}

// addArgsCheck turns cobra's argument errors into usage errors, recursively.
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
	for _, sub := range c.Commands() {
		addArgsCheck(sub)
	}
}
