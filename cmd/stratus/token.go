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
	auth.ScopeMetricsRead:    "read the Prometheus metrics, where metrics.require_token asks for a token",
	auth.ScopeWebhooksRead:   "list and show alert webhooks (never their secrets)",
	auth.ScopeWebhooksWrite:  "create, delete and test alert webhooks (implies webhooks:read)",
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
		Long: `List API tokens, never their secrets: scopes, bindings, expiry, when
each was last used and created. A token bound to zones, services or pools
sees only the tokens bound within its own bindings. LAST USED is written
by each server once a minute, so it is up to a minute behind; "never"
means not used since it was created.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			toks, err := c.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			return p.print(apiv1.TokenList{Tokens: toks}, func(w io.Writer) {
				row(w, "ID", "NAME", "SCOPES", "BINDINGS", "EXPIRES", "LAST USED", "CREATED")
				for _, t := range toks {
					row(w, t.ID, t.Name, strings.Join(t.Scopes, ","), bindingsText(t), expiryText(t.Expires, now), timeOrNever(&t.LastUsed), t.Created.Format(time.RFC3339))
				}
			})
		},
	}
	var (
		scopes, services, pools, zones []string
		expiresIn                      time.Duration
		expiresAt                      string
	)
	create := &cobra.Command{
		Use:   "create NAME --scope SCOPE [--scope ...] [--service NAME] [--pool NAME] [--zone NAME] [--expires-in 720h | --expires-at TIME]",
		Short: "Create an API token and print it (shown only once)",
		Long: `Create an API token and print it. The token is shown only now; the server
keeps a hash of it. A token gives only scopes it holds itself ("*" holds
them all); asking for others fails with exit status 5.

Bindings limit a token to named objects (each flag repeatable, or a comma
list); each kind limits its own routes:
  --zone       zones:* only on these zones; zone lists show only them
  --service    services:* and endpoints:write only on these services;
               service lists and events show only them
  --pool       endpoints and pool overrides only in pools of these names
               (in any service the token may act on): an endpoint is
               registered, renewed, deregistered, overridden and reported
               on only while it is, and stays, in one of them; a token
               bound to pools cannot create, replace or delete a service
A request outside the bindings fails with exit status 5. A token bound to
services or pools cannot run or read drills. A bound token creates and
deletes only tokens bound within its own bindings.

--expires-in or --expires-at make the token stop working at that time;
it is then refused (exit status 5) with a message saying when it expired.

Scopes:
` + scopeList(),
		Example: `  stratus token create fn-api --scope endpoints:write --service api.example.com --expires-in 720h
  stratus token create deployer --scope services:write --service api.example.com,www.example.com --pool canary`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := apiv1.CreateTokenRequest{Name: args[0], Scopes: scopes, Services: services, Pools: pools, Zones: zones}
			switch {
			case expiresIn != 0 && expiresAt != "":
				return usagef("give --expires-in or --expires-at, not both")
			case expiresIn < 0:
				return usagef("--expires-in %s is not a positive duration", expiresIn)
			case expiresIn > 0:
				req.Expires = time.Now().Add(expiresIn).UTC().Truncate(time.Second)
			case expiresAt != "":
				t, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return usagef("--expires-at %q is not an RFC 3339 time such as 2026-12-31T23:59:59Z", expiresAt)
				}
				req.Expires = t
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			t, err := c.IssueToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			return p.print(t, func(w io.Writer) {
				row(w, "id", t.ID)
				row(w, "name", t.Name)
				row(w, "scopes", strings.Join(t.Scopes, ","))
				row(w, "bindings", bindingsText(t.Token))
				row(w, "expires", expiryText(t.Expires, time.Now()))
				row(w, "token", t.Secret)
			})
		},
	}
	f := create.Flags()
	f.StringSliceVar(&scopes, "scope", nil, "scope to grant (repeatable)")
	f.StringSliceVar(&services, "service", nil, "bind the token to this service (repeatable, or a comma list)")
	f.StringSliceVar(&pools, "pool", nil, "bind the token to pools of this name (repeatable, or a comma list)")
	f.StringSliceVar(&zones, "zone", nil, "bind the token to this zone (repeatable, or a comma list)")
	f.DurationVar(&expiresIn, "expires-in", 0, "the token expires this long from now (such as 720h)")
	f.StringVar(&expiresAt, "expires-at", "", "the token expires at this RFC 3339 time (such as 2026-12-31T23:59:59Z)")
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an API token",
		Long: `Delete an API token. The token that asks must hold every scope of the
one it deletes, and be bound within its bindings (exit status 5
otherwise), and the last unbound, unexpired token that can administer
tokens ("*" or tokens:admin) is not deleted (exit status 4).`,
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

// bindingsText renders a token's bindings: "service=a.,b. pool=canary",
// or "-" when it is unbound.
func bindingsText(t apiv1.Token) string {
	var parts []string
	for _, b := range []struct {
		kind  string
		names []string
	}{{"zone", t.Zones}, {"service", t.Services}, {"pool", t.Pools}} {
		if len(b.names) > 0 {
			parts = append(parts, b.kind+"="+strings.Join(b.names, ","))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// expiryText renders when a token expires: "never", the time, or the
// time and "(expired)" once it has passed.
func expiryText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	s := t.Format(time.RFC3339)
	if !now.Before(t) {
		s += " (expired)"
	}
	return s
}
