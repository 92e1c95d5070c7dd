package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
)

const recordNames = `NAME is relative to the zone ("www", "@" for the apex), or absolute: with a
trailing dot, or ending in the zone's own name ("www.example.com" in zone
example.com). Each DATA argument is one record in zone-file syntax; quote it
when it has spaces ("10 mail.example.com."). Domain names inside DATA must be
fully qualified (end with a dot).`

func (a *app) recordCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "record",
		Aliases: []string{"records", "rr"},
		Short:   "List, add, replace and delete records",
	}
	cmd.AddCommand(a.recordListCommand(), a.recordChangeCommand("add"), a.recordChangeCommand("set"), a.recordDeleteCommand())
	return cmd
}

func (a *app) recordListCommand() *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:     "list ZONE [NAME]",
		Aliases: []string{"ls"},
		Short:   "List records, optionally only those at NAME and of --type",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			list, err := c.RRsets(cmd.Context(), args[0], name, typ)
			if err != nil {
				return err
			}
			return p.print(list, func(w io.Writer) {
				row(w, "NAME", "TTL", "TYPE", "DATA")
				for _, s := range list.RRsets {
					for _, r := range s.Records {
						row(w, s.Name, s.TTL, s.Type, r)
					}
				}
			})
		},
	}
	cmd.Flags().StringVarP(&typ, "type", "t", "", "only records of this type")
	return cmd
}

// recordChangeCommand builds "record add" and "record set".
func (a *app) recordChangeCommand(op string) *cobra.Command {
	var ttl uint32
	var ifMatch uint32
	short := map[string]string{
		"add": "Add records to an RRset (creating it)",
		"set": "Replace an RRset with the given records",
	}[op]
	cmd := &cobra.Command{
		Use:   op + " ZONE NAME TYPE DATA [DATA...]",
		Short: short,
		Long:  short + ".\n\n" + recordNames,
		Example: fmt.Sprintf(`  stratus record %[1]s example.com www A 192.0.2.1 192.0.2.2 --ttl 60
  stratus record %[1]s example.com @ MX "10 mail.example.com."
  stratus record %[1]s example.com @ TXT '"v=spf1 -all"'`, op),
		Args: cobra.MinimumNArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch := apiv1.Change{Op: op, Name: args[1], Type: args[2], Records: args[3:]}
			if cmd.Flags().Changed("ttl") {
				ch.TTL = &ttl
			}
			return a.applyChange(cmd, args[0], ch, optSerial(cmd, "if-match", ifMatch))
		},
	}
	cmd.Flags().Uint32Var(&ttl, "ttl", 0, "TTL in seconds (default: the set's current TTL, or the zone's default)")
	cmd.Flags().Uint32Var(&ifMatch, "if-match", 0, "apply only if the zone's serial is still this")
	return cmd
}

func (a *app) recordDeleteCommand() *cobra.Command {
	var ifMatch uint32
	cmd := &cobra.Command{
		Use:   "delete ZONE NAME TYPE [DATA...]",
		Short: "Delete the listed records, or the whole RRset when no DATA is given",
		Long: `Delete the listed records, or the whole RRset when no DATA is given.
Deleting a whole RRset that does not exist fails (exit code 3); deleting
records that are not there changes nothing and succeeds.

` + recordNames,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 {
				c, p, err := a.clientAndPrinter()
				if err != nil {
					return err
				}
				res, err := c.DeleteRRset(cmd.Context(), args[0], args[1], args[2], optSerial(cmd, "if-match", ifMatch))
				if err != nil {
					return inTermsOf(err, apiv1.Change{Name: args[1], Type: args[2]})
				}
				return printChange(p, res)
			}
			ch := apiv1.Change{Op: "delete", Name: args[1], Type: args[2], Records: args[3:]}
			return a.applyChange(cmd, args[0], ch, optSerial(cmd, "if-match", ifMatch))
		},
	}
	cmd.Flags().Uint32Var(&ifMatch, "if-match", 0, "apply only if the zone's serial is still this")
	return cmd
}

func (a *app) applyChange(cmd *cobra.Command, zone string, ch apiv1.Change, ifMatch *uint32) error {
	c, p, err := a.clientAndPrinter()
	if err != nil {
		return err
	}
	res, err := c.ChangeRRsets(cmd.Context(), zone, []apiv1.Change{ch}, ifMatch)
	if err != nil {
		return inTermsOf(err, ch)
	}
	return printChange(p, res)
}

// inputError is an API error about the input, told in terms of the
// command's arguments rather than the request's field paths.
type inputError struct {
	label string // what the user typed; empty when the message names it
	err   *client.APIError
}

func (e *inputError) Error() string {
	if e.label == "" {
		return e.err.Message
	}
	return e.label + ": " + e.err.Message
}

func (e *inputError) Unwrap() error { return e.err }

// inTermsOf rewrites an API error naming a field of the one change the
// command sent (changes[0].records[1], say) to name the argument the user
// typed (record "192.0.2.300").
func inTermsOf(err error, ch apiv1.Change) error {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Field == "" {
		return err
	}
	var label string
	switch f := ae.Field; {
	case strings.HasPrefix(f, "changes[0].records["):
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "changes[0].records["), "]"))
		if err != nil || i < 0 || i >= len(ch.Records) {
			return ae
		}
		label = fmt.Sprintf("record %q", ch.Records[i])
		if strings.Contains(ae.Message, strconv.Quote(ch.Records[i])) {
			label = ""
		}
	case f == "changes[0].name" || f == "name":
		label = fmt.Sprintf("name %q", ch.Name)
	case f == "changes[0].type" || f == "type":
		label = fmt.Sprintf("type %q", ch.Type)
	case f == "changes[0].ttl":
		label = "--ttl"
	case f == "changes[0]" || f == "changes":
		label = ch.Name + " " + ch.Type
	default:
		return err
	}
	return &inputError{label: label, err: ae}
}

// printChange reports a zone write.
func printChange(p *printer, res apiv1.ChangeResult) error {
	return p.print(res, func(w io.Writer) {
		if !res.Changed {
			fmt.Fprintf(w, "zone %s unchanged (serial %d)\n", res.Zone, res.Serial)
			return
		}
		fmt.Fprintf(w, "zone %s serial %d -> %d\n", res.Zone, res.OldSerial, res.Serial)
	})
}
