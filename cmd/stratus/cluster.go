package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// clusterNow is the time SEEN is measured from.
var clusterNow = time.Now

func (a *app) clusterCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Show the nodes that share the store",
	}
	c.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List the nodes of the cluster: which leads, how far each is behind, its health view",
		Long: `List the nodes that share the store, as their member records show them
(a node that stopped or lost its session on etcd is not listed).

NODE is the node's name (cluster.node), LEADER "*" on the node that runs the
work that must run once (lease reaping, steered answers for secondaries and
NOTIFY, secondary zone refreshes, scheduled drills), API its API address,
REVISION the store revision its DNS answers from, LAG the store's head
revision minus REVISION, HEALTH its own checks' count of endpoints
up/down/unknown, SEEN how long ago it last wrote its record (it writes it
when what it says changes, at most once a second). On a store of one node
(bbolt) the one node is listed, leading.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			cl, err := c.Cluster(cmd.Context())
			if err != nil {
				return err
			}
			now := clusterNow()
			return p.print(cl, func(w io.Writer) {
				row(w, "NODE", "LEADER", "API", "REVISION", "LAG", "HEALTH", "SEEN")
				for _, m := range cl.Members {
					lead := ""
					if m.Node == cl.Leader { // the election's word, not the record's claim
						lead = "*"
					}
					seen := now.Sub(m.Seen).Round(time.Second)
					row(w, m.Node, dash(lead), m.API, m.Revision, m.Lag,
						fmt.Sprintf("%d/%d/%d", m.Health.Up, m.Health.Down, m.Health.Unknown), max(seen, 0).String()+" ago")
				}
			})
		},
	})
	return c
}
