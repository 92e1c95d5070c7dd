package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (a *app) zoneCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone",
		Short: "Create, list, inspect, import, export and delete zones",
	}
	cmd.AddCommand(a.zoneListCommand(), a.zoneGetCommand(), a.zoneCreateCommand(), a.zoneUpdateCommand(), a.zoneDeleteCommand(),
		a.zoneImportCommand(), a.zoneExportCommand(), a.zoneJournalCommand(), a.zoneCompactJournalCommand())
	return cmd
}

func (a *app) zoneListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List zones",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			zones, err := c.Zones(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(apiv1.ZoneList{Zones: zones}, func(w io.Writer) {
				row(w, "NAME", "SERIAL", "RRSETS", "RECORDS", "POLICY", "UPDATED")
				for _, z := range zones {
					row(w, z.Name, serialText(z), z.RRsets, z.Records, policyText(z), timeOrNever(z.Updated))
				}
			})
		},
	}
}

func (a *app) zoneGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ZONE",
		Short: "Show a zone's settings and state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			z, err := c.Zone(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return p.print(z, func(w io.Writer) { zoneTable(w, z) })
		},
	}
}

func zoneTable(w io.Writer, z apiv1.Zone) {
	row(w, "name", z.Name)
	row(w, "serial", serialText(z))
	row(w, "serial policy", policyText(z))
	row(w, "default ttl", z.DefaultTTL)
	row(w, "rrsets", z.RRsets)
	row(w, "records", z.Records)
	row(w, "created", z.Created.Format(time.RFC3339))
	row(w, "updated", timeOrNever(z.Updated))
	row(w, "allow transfer", aclString(z.ACL.Transfer))
	row(w, "allow update", aclString(z.ACL.Update))
	row(w, "allow notify", aclString(z.ACL.Notify))
	row(w, "notify", notifyString(z.Notify))
	if len(z.Primaries) > 0 {
		row(w, "primaries", notifyString(z.Primaries))
		var refreshed *time.Time
		if z.Secondary != nil {
			refreshed = z.Secondary.Refreshed
		}
		row(w, "refreshed", timeOrNever(refreshed))
		if z.Secondary != nil && z.Secondary.Expired {
			row(w, "expired", "yes: answering SERVFAIL until a primary answers")
		}
		if z.Secondary != nil && z.Secondary.LastError != "" {
			row(w, "last error", z.Secondary.LastError)
		}
	}
}

// serialText is the zone's serial, or "-" while it has none (a secondary
// zone before its first transfer).
func serialText(z apiv1.Zone) string {
	if z.Serial == nil {
		return "-"
	}
	return strconv.FormatUint(uint64(*z.Serial), 10)
}

// policyText is the zone's serial policy; a secondary zone has its
// primary's serials.
func policyText(z apiv1.Zone) string {
	if len(z.Primaries) > 0 {
		return "primary's"
	}
	return z.SerialPolicy
}

func (a *app) zoneCreateCommand() *cobra.Command {
	var (
		ns         []string
		hostmaster string
		ttl        uint32
		policy     string
		tf         transferFlags
	)
	cmd := &cobra.Command{
		Use:   "create ZONE (--ns NAMESERVER ... | --primary IP[:PORT][,key=NAME] ...)",
		Short: "Create a zone with SOA and NS records, or a secondary zone of primaries elsewhere",
		Example: `  stratus zone create example.com --ns ns1.example.com. --ns ns2.example.net.
  stratus zone create fn.example.com --ns ns1.example.net. --ttl 60 --serial-policy date
  stratus zone create legacy.example.com --primary 192.0.2.1,key=xfr.example.com   # a secondary zone`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := apiv1.CreateZoneRequest{Name: args[0], Nameservers: ns, Hostmaster: hostmaster, SerialPolicy: policy}
			if cmd.Flags().Changed("ttl") {
				req.DefaultTTL = &ttl
			}
			if err := tf.createSettings(&req); err != nil {
				return err
			}
			if len(req.Primaries) > 0 && !cmd.Flags().Changed("serial-policy") {
				req.SerialPolicy = "" // a secondary zone has its primary's serials
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			z, err := c.CreateZone(cmd.Context(), req)
			if err != nil {
				return err
			}
			return p.print(z, func(w io.Writer) { zoneTable(w, z) })
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&ns, "ns", nil, "name server for the apex NS records (repeatable; the first is the SOA MNAME)")
	f.StringVar(&hostmaster, "hostmaster", "", "SOA RNAME, the zone contact as a domain name (default hostmaster.<zone>)")
	f.Uint32Var(&ttl, "ttl", 3600, "default TTL of the zone's records")
	f.StringVar(&policy, "serial-policy", "increment", "how the SOA serial advances: increment or date (YYYYMMDDnn)")
	tf.add(f)
	return cmd
}

func (a *app) zoneDeleteCommand() *cobra.Command {
	var ifMatch uint32
	cmd := &cobra.Command{
		Use:   "delete ZONE",
		Short: "Delete a zone with all its records and its journal",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeleteZone(cmd.Context(), args[0], optSerial(cmd, "if-match", ifMatch)); err != nil {
				return err
			}
			return p.print(deleted{Zone: args[0], Deleted: true}, func(w io.Writer) {
				fmt.Fprintf(w, "zone %s deleted\n", args[0])
			})
		},
	}
	cmd.Flags().Uint32Var(&ifMatch, "if-match", 0, "delete only if the zone's serial is still this")
	return cmd
}

func (a *app) zoneExportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export ZONE [-f FILE]",
		Short: "Write the zone as an RFC 1035 zone file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := c.ExportZone(cmd.Context(), args[0], a.stdout)
				return err
			}
			// Write beside the target and rename, so a failed export never
			// leaves a truncated zone file behind.
			f, err := os.CreateTemp(filepath.Dir(out), ".stratus-export-*")
			if err != nil {
				return err
			}
			defer os.Remove(f.Name())
			if _, err := c.ExportZone(cmd.Context(), args[0], f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.Chmod(f.Name(), 0o644); err != nil {
				return err
			}
			return os.Rename(f.Name(), out)
		},
	}
	cmd.Flags().StringVarP(&out, "file", "f", "", "write to this file instead of standard output")
	return cmd
}

func (a *app) zoneJournalCommand() *cobra.Command {
	var from, before uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "journal ZONE [--limit N] [--before SEQ | --from SEQ]",
		Short: "Show the zone's recent changes, newest first (serial, time, actor, records)",
		Long: `Show the zone's recent changes, newest first, as git log does: the last
--limit entries, and --before SEQ for the ones before entry SEQ (the line
after the table says what to ask for next). --from SEQ lists oldest first
from entry SEQ instead.

CHANGE counts the records removed (-) and added (+); the SOA, whose serial
every change moves, is not counted (SERIAL shows it). A change of the SOA's
other fields shows as "SOA". "whole zone" is a creation or a change too
large to record record by record.`,
		Example: `  stratus zone journal example.com
  stratus zone journal example.com --limit 20 --before 181
  stratus zone journal example.com --from 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			oldest := cmd.Flags().Changed("from")
			if oldest && cmd.Flags().Changed("before") {
				return usagef("--from lists oldest first and --before newest first: give one of them")
			}
			if cmd.Flags().Changed("before") && before == 0 {
				return usagef("--before: sequence numbers start at 1")
			}
			if limit < 1 {
				return usagef("--limit: show at least 1 entry, not %d", limit)
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			var j apiv1.Journal
			if oldest {
				j, err = c.Journal(cmd.Context(), args[0], from, limit)
			} else {
				j, err = c.RecentJournal(cmd.Context(), args[0], before, limit)
			}
			if err != nil {
				return err
			}
			return p.print(j, func(w io.Writer) {
				row(w, "SEQ", "SERIAL", "TIME", "ACTOR", "CHANGE")
				for _, e := range j.Entries {
					row(w, e.Seq, fmt.Sprintf("%d -> %d", e.OldSerial, e.NewSerial), e.Time.Format(time.RFC3339), e.Actor, journalChange(e))
				}
				if j.More && len(j.Entries) > 0 {
					last := j.Entries[len(j.Entries)-1].Seq
					if oldest {
						fmt.Fprintf(w, "newer entries: stratus zone journal %s --from %d\n", args[0], last+1)
					} else {
						fmt.Fprintf(w, "older entries: stratus zone journal %s --before %d\n", args[0], last)
					}
				}
			})
		},
	}
	cmd.Flags().Uint64Var(&before, "before", 0, "newest first, from the entry before this sequence number")
	cmd.Flags().Uint64Var(&from, "from", 0, "oldest first, from this sequence number")
	cmd.Flags().IntVar(&limit, "limit", 100, "most entries to show (1 to 10000)")
	return cmd
}

// journalChange says what a journal entry changed: records removed and
// added, the SOA left out (every change moves its serial) unless more than
// the serial changed.
func journalChange(e apiv1.JournalEntry) string {
	if e.Reset {
		return "whole zone"
	}
	var soaOld, soaNew string
	count := func(lines []string, soa *string) int {
		n := 0
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 6 && strings.EqualFold(f[3], "SOA") {
				f[6] = "" // owner TTL IN SOA mname rname serial ...: all but the serial
				*soa = strings.Join(f, " ")
				continue
			}
			n++
		}
		return n
	}
	removed, added := count(e.Removed, &soaOld), count(e.Added, &soaNew)
	var parts []string
	if removed > 0 {
		parts = append(parts, fmt.Sprintf("-%d", removed))
	}
	if added > 0 {
		parts = append(parts, fmt.Sprintf("+%d", added))
	}
	if soaOld != soaNew {
		parts = append(parts, "SOA")
	}
	if len(parts) == 0 {
		return "serial only"
	}
	return strings.Join(parts, " ")
}

func (a *app) zoneCompactJournalCommand() *cobra.Command {
	var keep int
	cmd := &cobra.Command{
		Use:   "compact-journal ZONE --keep N",
		Short: "Drop all but the newest N entries of the zone's journal",
		Long: `Drop all but the newest N entries of the zone's journal. The journal is also
compacted automatically to journal.max_entries entries per zone, and
journal.max_steered_entries changes of the steered answers alone; secondaries
that need a dropped entry transfer the whole zone instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("keep") {
				return usagef("--keep is required")
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			res, err := c.CompactJournal(cmd.Context(), args[0], keep)
			if err != nil {
				return err
			}
			return p.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "zone %s journal: %d entries kept\n", res.Zone, res.Entries)
			})
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 0, "entries to keep (at least 1)")
	return cmd
}

// deleted is the JSON output of the delete commands.
type deleted struct {
	Zone    string `json:"zone,omitempty"`
	Token   string `json:"token,omitempty"`
	TSIGKey string `json:"tsig_key,omitempty"`
	Deleted bool   `json:"deleted"`
}

// clientAndPrinter returns the API client and the output printer.
func (a *app) clientAndPrinter() (*apiClient, *printer, error) {
	p, err := a.printer()
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// optSerial returns &v when the flag was given.
func optSerial(cmd *cobra.Command, flag string, v uint32) *uint32 {
	if cmd.Flags().Changed(flag) {
		return &v
	}
	return nil
}
