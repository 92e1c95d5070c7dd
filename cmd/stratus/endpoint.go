package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (a *app) endpointCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "endpoint",
		Aliases: []string{"endpoints", "ep"},
		Short:   "Register, renew, list and deregister a service's endpoints",
	}
	cmd.AddCommand(a.endpointListCommand(), a.endpointRegisterCommand(), a.endpointRenewCommand(),
		a.endpointDeregisterCommand(), a.endpointOverrideCommand(), a.endpointReportCommand())
	return cmd
}

func (a *app) endpointListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list SERVICE",
		Aliases: []string{"ls"},
		Short:   "List a service's endpoints with their health and whether answers include them",
		Long: `List a service's endpoints with their health and whether answers include them.

ANSWERED is what the service's chain and when_all_down make of the endpoint
now, computed by the same evaluation that answers queries, for a client
with no location (no EDNS Client Subnet, an address the geo database does
not place):
  yes   every such answer includes it (also a down endpoint that failing
        open answers)
  some  a weighted or random choice includes it in some answers
  no    no such answer includes it (down, drained, outside the service's
        jurisdictions, behind a better priority tier, ...)
  -     steering does not know the service (yet)
WHY says why. Clients with a location can be answered otherwise by geo and
latency steps: stratus service explain SERVICE --client IP shows one
client's answer. CHECK is what the health checks say.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			eps, err := c.Endpoints(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return p.print(apiv1.EndpointList{Service: args[0], Endpoints: eps}, func(w io.Writer) {
				row(w, "ID", "POOL", "ADDRESS", "ANSWERED", "CHECK", "SINCE", "LEASE", "WHY")
				for _, e := range eps {
					answered, why := "-", ""
					if e.Steering != nil && e.Steering.Answered != "" {
						answered, why = e.Steering.Answered, e.Steering.AnsweredWhy
					}
					check, since := "not checked", "-"
					if e.Health != nil {
						check, since = e.Health.State, e.Health.Since.Format(time.RFC3339)
						if e.Health.HeldUntil != nil {
							check += " (held until " + e.Health.HeldUntil.Format(time.RFC3339) + ")"
						}
					}
					lease := leaseText(e)
					row(w, e.ID, e.Pool, e.Address, answered, check, since, lease, why)
				}
			})
		},
	}
}

func (a *app) endpointRegisterCommand() *cobra.Command {
	var e apiv1.Endpoint
	cmd := &cobra.Command{
		Use:     "register SERVICE ID --pool POOL --address ADDRESS [--ttl 30s]",
		Short:   "Register an endpoint (again: registering is idempotent and renews the lease)",
		Example: `  stratus endpoint register api.fn.example.com fra-1 --pool eu-west --address abc.lambda-url.eu-west-1.on.aws --ttl 30s`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			e.ID = args[1]
			out, err := c.RegisterEndpoint(cmd.Context(), args[0], e)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "endpoint %s registered in pool %s; lease %s\n", out.ID, out.Pool, leaseText(out))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&e.Pool, "pool", "", "the pool (required)")
	f.StringVar(&e.Address, "address", "", "the IP address or hostname to answer (required)")
	f.StringVar(&e.TTL, "ttl", "", "lease duration, e.g. 30s; without it the endpoint stays until deregistered")
	f.Uint32Var(&e.Weight, "weight", 0, "weight within the pool for weighted policies (default 1)")
	f.StringVar(&e.CheckTarget, "check-target", "", "probe this host[:port] instead of the address")
	return cmd
}

func (a *app) endpointRenewCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "renew SERVICE ID",
		Short: "Renew an endpoint's lease (a heartbeat)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			out, err := c.RenewEndpoint(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "endpoint %s renewed; lease %s\n", out.ID, leaseText(out))
			})
		},
	}
}

func (a *app) endpointDeregisterCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "deregister SERVICE ID",
		Short: "Deregister an endpoint",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeregisterEndpoint(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return p.print(map[string]any{"service": args[0], "endpoint": args[1], "deregistered": true}, func(w io.Writer) {
				fmt.Fprintf(w, "endpoint %s deregistered\n", args[1])
			})
		},
	}
}

func (a *app) endpointOverrideCommand() *cobra.Command {
	var (
		reason string
		ttl    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "override SERVICE ID up|down|clear [--reason TEXT]",
		Short: "Force an endpoint up or down regardless of its checks, or clear that",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			state, err := overrideState(args[2])
			if err != nil {
				return err
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if state == "" && ttl != 0 {
				return usagef("--ttl: a cleared override has no time limit")
			}
			out, err := c.SetEndpointOverride(cmd.Context(), args[0], args[1], state, reason, ttl)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) { fmt.Fprintf(w, "endpoint %s override: %s\n", out.ID, args[2]) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded with the override)")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "end the override by itself after this long (1s to 168h; default: until cleared)")
	return cmd
}

func (a *app) endpointReportCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "report SERVICE ID up|down [--reason TEXT]",
		Short: "Report an endpoint's own health (pools with push checks)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[2] != "up" && args[2] != "down" {
				return usagef("state %q is not up or down", args[2])
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			out, err := c.ReportHealth(cmd.Context(), args[0], args[1], args[2] == "up", reason)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) { fmt.Fprintf(w, "endpoint %s reported %s\n", out.ID, args[2]) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	return cmd
}

// leaseText says how long an endpoint's lease is and when it ends, the
// one way register, renew and list say it: "30s, until
// 2026-11-26T12:00:30Z", or "-" without a lease.
func leaseText(e apiv1.Endpoint) string {
	if e.Expires == nil {
		return "-"
	}
	until := "until " + e.Expires.UTC().Format(time.RFC3339)
	if d, err := time.ParseDuration(e.TTL); err == nil {
		return duration(d) + ", " + until
	}
	return until
}

func overrideState(s string) (string, error) {
	switch s {
	case "up", "down":
		return s, nil
	case "clear":
		return "", nil
	}
	return "", usagef("state %q is not up, down or clear", s)
}
