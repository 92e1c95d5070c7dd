package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
)

// errAuditBroken means audit verify found the log altered.
var errAuditBroken = errors.New("the audit log does not verify")

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List and verify the audit log: who changed what, when and from where",
		Long: `The audit log records every change: API and CLI writes, dynamic updates,
zone transfers in, endpoint registrations and lapsed leases, overrides,
tokens, TSIG keys and drill runs. Each entry names the actor (token, TSIG
key or the server itself), the source address, the action, the object and
a keyed digest of the object's stored encoding before and after. Entries are
chained per object with HMAC-SHA256 under the audit key (audit.key_file),
which the store does not hold, so that editing the store cannot hide a
change. Both commands need the scope audit:read.`,
	}
	cmd.AddCommand(a.auditListCommand(), a.auditVerifyCommand())
	return cmd
}

// parseSince reads a time as RFC 3339 or as a duration before now
// ("24h").
func parseSince(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("--%s: %q is neither a time (2026-01-02T15:04:05Z) nor a duration before now (24h)", flag, v)
}

func (a *app) auditListCommand() *cobra.Command {
	var since, until, actor, object string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--since T] [--until T] [--actor A] [--object O]",
		Short: "Show audit entries, oldest first",
		Long: `Show audit entries, oldest first. --since and --until take a time
(2026-01-02T15:04:05Z) or a duration before now (24h); --actor a token's
name or id, a TSIG key's name, or kind:name (token:ops, tsig:key.example.,
system:lease-reaper); --object a stream (zone:example.com.,
service:www.example.com.), a kind of stream (token:, endpoint:) or text
the object contains. With --output json
each entry is one JSON line, for export; --limit 0 reads every entry
selected, a page at a time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			q := client.AuditQuery{Actor: actor, Object: object}
			var err error
			if q.Since, err = parseSince("since", since, now); err != nil {
				return err
			}
			if q.Until, err = parseSince("until", until, now); err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit: %d is negative (0 reads every entry)", limit)
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			entries, err := auditEntries(cmd, c, q, limit)
			if err != nil {
				return err
			}
			if p.json {
				enc := json.NewEncoder(p.w)
				for i := range entries {
					if err := enc.Encode(&entries[i]); err != nil {
						return err
					}
				}
				return nil
			}
			return p.print(nil, func(w io.Writer) {
				row(w, "TIME", "ACTOR", "SOURCE", "ACTION", "OBJECT", "DETAIL")
				for _, e := range entries {
					who := e.Actor.Kind + ":" + e.Actor.Name
					row(w, e.Time.Format("2006-01-02T15:04:05.000Z07:00"), who, orDash(e.Source), e.Action, e.Object, orDash(e.Detail))
				}
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this time, or this long ago (24h)")
	cmd.Flags().StringVar(&until, "until", "", "only entries before this time, or this long ago")
	cmd.Flags().StringVar(&actor, "actor", "", "only entries by this actor (name, id or kind:name)")
	cmd.Flags().StringVar(&object, "object", "", "only entries of this stream, or whose object contains this")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most entries to show (0: all)")
	return cmd
}

// auditEntries reads the entries q selects, at most limit (0: all, a
// page at a time: the next page starts at the last entry's time, less
// the entries of that time already read).
func auditEntries(cmd *cobra.Command, c *client.Client, q client.AuditQuery, limit int) ([]apiv1.AuditEntry, error) {
	if limit > 0 {
		q.Limit = limit
		log, err := c.Audit(cmd.Context(), q)
		return log.Entries, err
	}
	const page = 1000
	q.Limit = page
	var out []apiv1.AuditEntry
	seen := map[string]bool{} // entries at q.Since already read
	for {
		log, err := c.Audit(cmd.Context(), q)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, e := range log.Entries {
			id := fmt.Sprintf("%s/%d", e.Stream, e.Seq)
			if e.Time.Equal(q.Since) && seen[id] {
				continue
			}
			if !e.Time.Equal(q.Since) {
				clear(seen)
				q.Since = e.Time
			}
			seen[id] = true
			out = append(out, e)
			added++
		}
		if !log.More {
			return out, nil
		}
		if added == 0 {
			return nil, fmt.Errorf("more than %d audit entries share the time %s: read them with --limit", page, q.Since.Format(time.RFC3339Nano))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) auditVerifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit log's chains; exit 8 when an entry of a chain was altered, removed, added or reordered",
		Long: `Verify every stream of the audit log with the audit key on the server:
each entry's MAC, its link to the entry before it (or to the checkpoint
left by pruning), that no entry is missing, and the stream's head. Every
problem is listed with its stream, entry and store key; the command then
exits 8. Two changes leave nothing in the store to check: a stream
removed whole (every entry, its head and its checkpoint) and a stream set
back whole to an older copy. With --output json the whole result is
printed, each stream's head included: kept elsewhere, the heads show
both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			v, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.print(v, func(w io.Writer) {
				if v.OK {
					fmt.Fprintf(w, "audit log verified: %d entries in %d streams\n", v.Entries, len(v.Streams))
					return
				}
				row(w, "STREAM", "ENTRY", "KEY", "PROBLEM")
				for _, pr := range v.Problems {
					entry := "-"
					if pr.Seq > 0 {
						entry = fmt.Sprint(pr.Seq)
					}
					row(w, pr.Stream, entry, pr.Key, pr.Problem)
				}
			}); err != nil {
				return err
			}
			if !v.OK {
				return fmt.Errorf("%w: %d problems in %s", errAuditBroken, len(v.Problems), strings.Join(problemStreams(v.Problems), ", "))
			}
			return nil
		},
	}
}

func problemStreams(ps []apiv1.AuditProblem) []string {
	var out []string
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p.Stream {
			out = append(out, p.Stream)
		}
	}
	return out
}
