package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the server is degraded: its store's reach and the revision DNS answers from",
		Long: `Show the state of the server the client talks to. STATE is "ok", or
"degraded" while its store (etcd) does not answer: DNS then answers from the
last snapshot, at REVISION, and API calls that need the store fail with 503
until it answers again. SINCE is when the store last went away or came back;
ERROR is its last failure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(st, func(w io.Writer) {
				state := "ok"
				if st.Degraded {
					state = "degraded"
				}
				since := "-"
				if st.Store.Since != nil {
					since = st.Store.Since.Format(time.RFC3339)
				}
				row(w, "STATE", "REVISION", "SINCE", "ERROR")
				row(w, state, st.Store.Revision, since, dash(st.Store.Error))
			})
		},
	}
}

// dash shows an empty string as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
