package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// scopeHelp says what each scope of auth.KnownScopes allows.
var scopeHelp = map[string]string{
	auth.ScopeAll:            "everything",
	auth.ScopeZonesRead:      "read zones, records and journals",
	auth.ScopeZonesWrite:     "change zones and records (implies zones:read)",
	auth.ScopeServicesRead:   "read services, endpoints, health, events and drill runs",
	auth.ScopeServicesWrite:  "change services, pools and endpoints, run drills (implies services:read and endpoints:write)",
	auth.ScopeEndpointsWrite: "register, renew and deregister endpoints and report their health, and nothing else: for functions",
	auth.ScopeTokens:         "create, list and delete API tokens",
	auth.ScopeTSIG:           "create, list and delete TSIG keys (as powerful as zones:write)",
	auth.ScopeAuditRead:      "list and verify the audit log (who changed what, from where)",
}

// scopeList is the help's list of every scope a token may be given.
func scopeList() string {
	var b strings.Builder
	for _, s := range auth.KnownScopes {
		fmt.Fprintf(&b, "  %-16s %s\n", s, scopeHelp[s])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List API tokens (never their secrets)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			toks, err := c.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(apiv1.TokenList{Tokens: toks}, func(w io.Writer) {
				row(w, "ID", "NAME", "SCOPES", "CREATED")
				for _, t := range toks {
					row(w, t.ID, t.Name, strings.Join(t.Scopes, ","), t.Created.Format(time.RFC3339))
				}
			})
		},
	}
	var scopes []string
	create := &cobra.Command{
		Use:   "create NAME --scope SCOPE [--scope ...]",
		Short: "Create an API token and print it (shown only once)",
		Long: `Create an API token and print it. The token is shown only now; the server
keeps a hash of it. A token gives only scopes it holds itself ("*" holds
them all); asking for others fails with exit status 5.

Scopes:
` + scopeList(),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			t, err := c.CreateToken(cmd.Context(), args[0], scopes)
			if err != nil {
				return err
			}
			return p.print(t, func(w io.Writer) {
				row(w, "id", t.ID)
				row(w, "name", t.Name)
				row(w, "scopes", strings.Join(t.Scopes, ","))
				row(w, "token", t.Secret)
			})
		},
	}
	create.Flags().StringSliceVar(&scopes, "scope", nil, "scope to grant (repeatable)")
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an API token",
		Long: `Delete an API token. The token that asks must hold every scope of the
one it deletes (exit status 5 otherwise), and the last token that can
administer tokens ("*" or tokens:admin) is not deleted (exit status 4).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeleteToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(deleted{Token: args[0], Deleted: true}, func(w io.Writer) {
				fmt.Fprintf(w, "token %s deleted\n", args[0])
			})
		},
	}
	cmd.AddCommand(list, create, del)
	return cmd
}
