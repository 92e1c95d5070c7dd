package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
	"go.yaml.in/yaml/v3"
)

func (a *app) serviceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "service",
		Aliases: []string{"services", "svc"},
		Short:   "Create, inspect, explain and delete steered services",
	}
	cmd.AddCommand(a.serviceListCommand(), a.serviceGetCommand(), a.serviceCreateCommand("create"), a.serviceCreateCommand("update"),
		a.serviceCreateCommand("apply"), a.serviceDeleteCommand(), a.serviceExplainCommand())
	return cmd
}

func (a *app) serviceListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List services",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			svcs, err := c.Services(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(apiv1.ServiceList{Services: svcs}, func(w io.Writer) {
				row(w, "NAME", "POLICY", "TTL", "POOLS", "VERSION")
				for _, s := range svcs {
					policy := s.Policy
					if policy == "" {
						policy = strings.Join(s.Chain, ",")
					}
					row(w, s.Name, policy, s.TTL, len(s.Pools), s.Version)
				}
			})
		},
	}
}

func (a *app) serviceGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get SERVICE",
		Short: "Show a service's definition (JSON), with defaults filled in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.Service(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return (&printer{w: a.stdout, json: true}).print(s, nil)
		},
	}
}

// serviceCreateCommand builds "service create", "service update" and
// "service apply".
func (a *app) serviceCreateCommand(verb string) *cobra.Command {
	var file string
	var ifMatch uint64
	var short, more string
	switch verb {
	case "create":
		short = "Create a service from a YAML or JSON file"
	case "update":
		short = "Replace a service's definition from a YAML or JSON file (its endpoints stay)"
	case "apply":
		short = "Create a service from a YAML or JSON file, or replace its definition if it exists"
		more = `

Apply is what to run from a deployment: create on the first run, update on
every later one. Endpoints, and the pool overrides set with "pool drain" or
"pool force-up", stay as they are.`
	}
	cmd := &cobra.Command{
		Use:   verb + " -f FILE",
		Short: short,
		Long: short + `. FILE "-" reads standard input. Unknown fields are errors.` + more + `

Example file:

  name: api.fn.example.com
  ttl: 20
  policy: failover          # weighted, multivalue, geo, latency
  jurisdictions: [eu]       # never answer outside these
  when_all_down: {mode: fail_open}
  pools:
    - name: eu-west
      region: eu-west
      jurisdiction: eu
      priority: 1
      check: {type: https, path: /healthz, interval: 1s, fall: 2, rise: 2}
    - name: eu-central
      jurisdiction: eu
      priority: 2
      check: {type: https, path: /healthz, interval: 1s}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-f/--filename FILE is required")
			}
			s, err := a.readService(file)
			if err != nil {
				return err
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			var out apiv1.Service
			done := verb + "d"
			switch verb {
			case "update":
				var im *uint64
				if cmd.Flags().Changed("if-match") {
					im = &ifMatch
				}
				out, err = c.UpdateService(cmd.Context(), s, im)
			case "create":
				out, err = c.CreateService(cmd.Context(), s)
			case "apply":
				out, done, err = applyService(cmd.Context(), c, s)
			}
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "service %s %s (version %d)\n", out.Name, done, out.Version)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "service definition (YAML or JSON)")
	cmd.Flags().StringVar(&file, "file", "", "the same as --filename")
	cmd.Flags().MarkHidden("file")
	if verb == "update" {
		cmd.Flags().Uint64Var(&ifMatch, "if-match", 0, "update only if the service is still at this version")
	}
	return cmd
}

// applyService updates s, or creates it when it does not exist yet; done
// says which happened. A create that loses a race with another one updates
// instead.
func applyService(ctx context.Context, c *client.Client, s apiv1.Service) (out apiv1.Service, done string, err error) {
	for range 2 {
		out, err = c.UpdateService(ctx, s, nil)
		if client.StatusOf(err) != http.StatusNotFound {
			return out, "updated", err
		}
		out, err = c.CreateService(ctx, s)
		if client.StatusOf(err) != http.StatusConflict {
			return out, "created", err
		}
	}
	return out, "", err
}

// readService reads a service definition from YAML or JSON, strictly.
func (a *app) readService(file string) (apiv1.Service, error) {
	var s apiv1.Service
	b, err := a.readInput(file)
	if err != nil {
		return s, usagef("%v", err)
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return s, usagef("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return s, usagef("%s: %v", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return s, usagef("%s: field %s: expected %s", file, te.Field, te.Type)
		}
		return s, usagef("%s: %s", file, strings.TrimPrefix(err.Error(), "json: "))
	}
	return s, nil
}

func (a *app) serviceDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete SERVICE",
		Short: "Delete a service and its endpoints",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeleteService(cmd.Context(), args[0], nil); err != nil {
				return err
			}
			return p.print(map[string]any{"service": args[0], "deleted": true}, func(w io.Writer) {
				fmt.Fprintf(w, "service %s deleted\n", args[0])
			})
		},
	}
}

func (a *app) serviceExplainCommand() *cobra.Command {
	var client, subnet, qtype string
	cmd := &cobra.Command{
		Use:     "explain SERVICE [--client IP] [--subnet CIDR] [--type A|AAAA|CNAME]",
		Short:   "Show the answer a client gets and why: each filter and what it removed",
		Example: `  stratus service explain api.fn.example.com --client 192.0.2.53 --subnet 198.51.100.0/24`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			x, err := c.Explain(cmd.Context(), args[0], client, subnet, qtype)
			if err != nil {
				return err
			}
			return p.print(x, func(w io.Writer) { explainTable(w, &x) })
		},
	}
	cmd.Flags().StringVar(&client, "client", "", "the resolver's address (default 0.0.0.0)")
	cmd.Flags().StringVar(&subnet, "subnet", "", "an EDNS Client Subnet, e.g. 198.51.100.0/24")
	cmd.Flags().StringVarP(&qtype, "type", "t", "A", "A, AAAA or CNAME")
	return cmd
}

func explainTable(w io.Writer, x *apiv1.Explanation) {
	fmt.Fprintf(w, "service  %s %s\n", x.Service, x.QType)
	who := x.Client
	if x.Subnet != "" {
		who += " (subnet " + x.Subnet + ")"
	}
	fmt.Fprintf(w, "client   %s\n", who)
	loc := "unknown"
	if x.Location.Known {
		loc = strings.Trim(strings.Join([]string{x.Location.Region, x.Location.Country, x.Location.Continent}, " "), " ")
		if x.Location.Network != "" {
			loc += " (" + x.Location.Network + ")"
		}
	}
	fmt.Fprintf(w, "location %s\n\npools:\n", loc)
	for _, p := range x.Pools {
		state := "down"
		if p.Up {
			state = "up"
		}
		fmt.Fprintf(w, "  %-16s %-4s %s\n", p.Name, state, p.Why)
	}
	fmt.Fprintln(w, "\nsteps:")
	for _, s := range x.Steps {
		fmt.Fprintf(w, "  %-14s %s -> %s\n", s.Filter, list(s.In), list(s.Out))
		for _, r := range s.Removed {
			fmt.Fprintf(w, "      - %s (pool %s): %s\n", r.Endpoint, r.Pool, r.Reason)
		}
	}
	for _, n := range x.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if x.AllDown != "" {
		fmt.Fprintf(w, "\n%s\n", x.AllDown)
	}
	fmt.Fprintf(w, "\nanswer   %s %s (ttl %d, ecs scope %d)\n", x.Rcode, list(x.Answer), x.TTL, x.Scope)
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}
