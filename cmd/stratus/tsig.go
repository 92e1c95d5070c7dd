package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (a *app) tsigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tsig",
		Short: "Manage TSIG keys, which sign zone transfers, NOTIFY and dynamic updates",
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List TSIG keys (never their secrets)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			keys, err := c.TSIGKeys(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(apiv1.TSIGKeyList{Keys: keys}, func(w io.Writer) {
				row(w, "NAME", "ALGORITHM", "CREATED")
				for _, k := range keys {
					row(w, k.Name, k.Algorithm, k.Created.Format(time.RFC3339))
				}
			})
		},
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a TSIG key (never its secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			k, err := c.TSIGKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return p.print(k, func(w io.Writer) {
				row(w, "name", k.Name)
				row(w, "algorithm", k.Algorithm)
				row(w, "created", k.Created.Format(time.RFC3339))
			})
		},
	}
	var algorithm, secretFile string
	create := &cobra.Command{
		Use:   "create NAME [--algorithm ALG] [--secret-file FILE]",
		Short: "Create a TSIG key and print its secret (shown only once)",
		Long: `Create a TSIG key. Its name is a domain name; peers (secondaries, primaries,
nsupdate) must use the same name, algorithm and secret. Algorithms:
hmac-sha256 (default), hmac-sha512, hmac-sha1 (for older peers).

Without --secret-file a secret as long as the algorithm's digest is
generated and printed, only now. --secret-file reads a base64 secret, as
tsig-keygen and keymgr print it ("-" reads standard input), to share a key a
peer already has; that secret is not printed back (nor in -o json).`,
		Example: `  stratus tsig create xfr.example.com
  stratus tsig create bind-primary --algorithm hmac-sha512 --secret-file primary.secret`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := apiv1.CreateTSIGKeyRequest{Name: args[0], Algorithm: algorithm}
			if secretFile != "" {
				s, err := a.readSecret(secretFile)
				if err != nil {
					return err
				}
				req.Secret = s
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			k, err := c.CreateTSIGKey(cmd.Context(), req)
			if err != nil {
				return err
			}
			if req.Secret != "" {
				// The user has the secret already: no need to put it on
				// the terminal, in scrollback or in a CI log.
				return p.print(k.TSIGKey, func(w io.Writer) {
					row(w, "name", k.Name)
					row(w, "algorithm", k.Algorithm)
					row(w, "secret", "(the one given, not shown)")
				})
			}
			return p.print(k, func(w io.Writer) {
				row(w, "name", k.Name)
				row(w, "algorithm", k.Algorithm)
				row(w, "secret", k.Secret)
			})
		},
	}
	create.Flags().StringVar(&algorithm, "algorithm", "", "hmac-sha256 (default), hmac-sha512 or hmac-sha1")
	create.Flags().StringVar(&secretFile, "secret-file", "", `file holding a base64 secret ("-" for standard input); default: generate one`)
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a TSIG key; peers signing with it are refused from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeleteTSIGKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(deleted{TSIGKey: args[0], Deleted: true}, func(w io.Writer) {
				fmt.Fprintf(w, "tsig key %s deleted\n", args[0])
			})
		},
	}
	cmd.AddCommand(list, get, create, del)
	return cmd
}

// readInput reads file, or standard input for "-".
func (a *app) readInput(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(a.stdin)
	}
	return os.ReadFile(file)
}

// readSecret reads a base64 secret from file ("-": standard input), so
// that it never appears on a command line.
func (a *app) readSecret(file string) (string, error) {
	b, err := a.readInput(file)
	if err != nil {
		return "", usagef("--secret-file: %v", err)
	}
	return strings.TrimSpace(string(b)), nil
}
