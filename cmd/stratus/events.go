package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (a *app) eventsCommand() *cobra.Command {
	var service string
	var after uint64
	var limit int
	var follow bool
	cmd := &cobra.Command{
		Use:   "events [--service NAME] [--follow]",
		Short: "Show health events: every change of an endpoint's state, with its reason",
		Long: `Show health events: every change of an endpoint's or pool's state, with
its reason and actor, oldest first. CHANGE is the state before and after, as
answers see it; "(no change)" marks an event that changed no state (a drain
of a pool that was down already, a hold-down starting), whose reason says
what it was. Events are kept in the store and survive a restart, even a
crash (less at most the last 50 ms before it); their numbers go on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			header := true
			for {
				evs, err := c.Events(cmd.Context(), service, after, limit)
				if err != nil {
					return err
				}
				if len(evs) > 0 {
					after = evs[len(evs)-1].Seq
				}
				if err := p.print(apiv1.EventList{Events: evs}, func(w io.Writer) {
					if header {
						row(w, "SEQ", "TIME", "SERVICE", "ENDPOINT", "CHANGE", "ACTOR", "REASON")
						header = false
					}
					for _, e := range evs {
						who := e.Endpoint
						if e.Pool != "" {
							who = "pool " + e.Pool
						}
						if e.Node != "" {
							who = "node " + e.Node
						}
						if e.Zone != "" {
							who = "zone " + e.Zone
						}
						if e.Name != "" {
							who = "name " + e.Name
						}
						change := "(no change)"
						if e.New != "" {
							change = e.Old + " -> " + e.New
						}
						row(w, e.Seq, e.Time.Format("2006-01-02T15:04:05.000Z07:00"), e.Service, who, change, e.Actor, e.Reason)
					}
				}); err != nil {
					return err
				}
				if !follow {
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(time.Second):
				}
			}
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service's events")
	cmd.Flags().Uint64Var(&after, "after", 0, "only events after this sequence number")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most events to show")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep showing new events")
	return cmd
}
