package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) poolCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pool",
		Aliases: []string{"pools"},
		Short:   "Show pools and drain or force them",
	}
	var (
		reason string
		ttl    time.Duration
	)
	done := map[string]string{"drain": "drained", "force-up": "forced up", "undrain": "undrained: its checks decide again"}
	override := func(use, short, state string) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " SERVICE POOL [--reason TEXT]",
			Short: short,
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, p, err := a.clientAndPrinter()
				if err != nil {
					return err
				}
				out, err := c.SetPoolOverride(cmd.Context(), args[0], args[1], state, reason, ttl)
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { fmt.Fprintf(w, "pool %s of service %s %s\n", args[1], out.Name, done[use]) })
			},
		}
		c.Flags().StringVar(&reason, "reason", "", "why (recorded with the override)")
		if state != "" {
			c.Flags().DurationVar(&ttl, "ttl", 0, "end the override by itself after this long (1s to 168h; default: until cleared)")
		}
		return c
	}
	list := &cobra.Command{
		Use:   "list SERVICE",
		Short: "List a service's pools with their current state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			x, err := c.Explain(cmd.Context(), args[0], "", "", "")
			if err != nil {
				return err
			}
			return p.print(x.Pools, func(w io.Writer) {
				row(w, "POOL", "STATE", "HEALTHY", "WHY")
				for _, pl := range x.Pools {
					state := "down"
					if pl.Up {
						state = "up"
					}
					row(w, pl.Name, state, fmt.Sprintf("%d/%d", pl.Healthy, pl.Total), pl.Why)
				}
			})
		},
	}
	cmd.AddCommand(list,
		override("drain", "Take a pool out of answers (force it down)", "down"),
		override("force-up", "Answer a pool's endpoints whatever their checks say", "up"),
		override("undrain", "Clear a pool's override: its checks decide again", ""))
	return cmd
}
