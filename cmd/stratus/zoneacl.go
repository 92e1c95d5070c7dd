package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// transferFlags are the zone flags for ACLs and NOTIFY targets, shared by
// zone create and zone update.
type transferFlags struct {
	transfer, update, notifyFrom, notify, primaries []string
}

const aclRuleHelp = `RULE: key=NAME, network=CIDR, or both comma-separated (a bare IP or CIDR is a network); "none" empties the list`

func (t *transferFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&t.transfer, "allow-transfer", nil, "who may transfer the zone (AXFR/IXFR), repeatable; "+aclRuleHelp)
	f.StringArrayVar(&t.update, "allow-update", nil, "who may send dynamic updates (RFC 2136), repeatable; same RULE syntax")
	f.StringArrayVar(&t.notifyFrom, "allow-notify", nil, "who may send NOTIFY for the zone, repeatable; same RULE syntax")
	f.StringArrayVar(&t.notify, "notify", nil, `secondary told of each new serial: IP[:PORT][,key=NAME], repeatable; "none" empties the list`)
	f.StringArrayVar(&t.primaries, "primary", nil, "makes a secondary zone: a primary to transfer it from, IP[:PORT][,key=NAME], repeatable")
}

// parseRules parses one list's flags; nil when the flag was not given.
func parseRules(flag string, vals []string) (*[]apiv1.ACLRule, error) {
	if vals == nil {
		return nil, nil
	}
	out := []apiv1.ACLRule{}
	for _, v := range vals {
		if v == "none" {
			continue
		}
		r, err := model.ParseACLRule(v)
		if err != nil {
			return nil, usagef("--%s %q: %v", flag, v, err)
		}
		j := apiv1.ACLRule{Key: string(r.Key)}
		if r.Network.IsValid() {
			j.Network = r.Network.String()
		}
		out = append(out, j)
	}
	return &out, nil
}

func (t *transferFlags) targets() (*[]apiv1.NotifyTarget, error) {
	return parseTargets("notify", t.notify)
}

// parseTargets parses IP[:PORT][,key=NAME] flags; nil when not given.
func parseTargets(flag string, vals []string) (*[]apiv1.NotifyTarget, error) {
	if vals == nil {
		return nil, nil
	}
	out := []apiv1.NotifyTarget{}
	for _, v := range vals {
		if v == "none" {
			continue
		}
		nt, err := model.ParseNotifyTarget(v)
		if err != nil {
			return nil, usagef("--%s %q: %v", flag, v, err)
		}
		out = append(out, apiv1.NotifyTarget{Address: nt.Address.String(), Key: string(nt.Key)})
	}
	return &out, nil
}

// patch returns the settings the flags change.
func (t *transferFlags) patch() (*apiv1.ZoneACLPatch, *[]apiv1.NotifyTarget, error) {
	var p apiv1.ZoneACLPatch
	var err error
	if p.Transfer, err = parseRules("allow-transfer", t.transfer); err != nil {
		return nil, nil, err
	}
	if p.Update, err = parseRules("allow-update", t.update); err != nil {
		return nil, nil, err
	}
	if p.Notify, err = parseRules("allow-notify", t.notifyFrom); err != nil {
		return nil, nil, err
	}
	n, err := t.targets()
	if err != nil {
		return nil, nil, err
	}
	if p.Transfer == nil && p.Update == nil && p.Notify == nil {
		return nil, n, nil
	}
	return &p, n, nil
}

// createSettings fills a create request from the flags.
func (t *transferFlags) createSettings(req *apiv1.CreateZoneRequest) error {
	p, n, err := t.patch()
	if err != nil {
		return err
	}
	if p != nil {
		req.ACL = &apiv1.ZoneACL{}
		for _, l := range []struct{ from, to *[]apiv1.ACLRule }{{p.Transfer, &req.ACL.Transfer}, {p.Update, &req.ACL.Update}, {p.Notify, &req.ACL.Notify}} {
			if l.from != nil {
				*l.to = *l.from
			}
		}
	}
	if n != nil {
		req.Notify = *n
	}
	ps, err := parseTargets("primary", t.primaries)
	if ps != nil {
		req.Primaries = *ps
	}
	return err
}

func aclString(rs []apiv1.ACLRule) string {
	if len(rs) == 0 {
		return "none"
	}
	var parts []string
	for _, r := range rs {
		var f []string
		if r.Key != "" {
			f = append(f, "key="+r.Key)
		}
		if r.Network != "" {
			f = append(f, "network="+r.Network)
		}
		parts = append(parts, strings.Join(f, ","))
	}
	return strings.Join(parts, "; ")
}

func notifyString(ts []apiv1.NotifyTarget) string {
	if len(ts) == 0 {
		return "none"
	}
	var parts []string
	for _, t := range ts {
		s := t.Address
		if t.Key != "" {
			s += ",key=" + t.Key
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (a *app) zoneUpdateCommand() *cobra.Command {
	var (
		tf  transferFlags
		ttl uint32
	)
	cmd := &cobra.Command{
		Use:   "update ZONE [--ttl N] [--allow-transfer RULE ...] [--allow-update RULE ...] [--allow-notify RULE ...] [--notify TARGET ...]",
		Short: "Change a zone's settings: default TTL, ACLs, NOTIFY targets",
		Long: `Change a zone's settings. A list given replaces the zone's list as a whole;
lists not given are kept. Transfers and updates are refused unless an ACL
allows them. Every TSIG key named must exist (stratus tsig create).`,
		Example: `  stratus zone update example.com --allow-transfer key=xfr.example.com --notify 192.0.2.53,key=xfr.example.com
  stratus zone update example.com --allow-transfer key=xfr.example.com,network=10.0.0.0/8 --allow-transfer 192.0.2.1
  stratus zone update example.com --allow-update none`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req apiv1.UpdateZoneRequest
			var err error
			if req.ACL, req.Notify, err = tf.patch(); err != nil {
				return err
			}
			if cmd.Flags().Changed("ttl") {
				req.DefaultTTL = &ttl
			}
			if req.Primaries, err = parseTargets("primary", tf.primaries); err != nil {
				return err
			}
			if req.ACL == nil && req.Notify == nil && req.DefaultTTL == nil && req.Primaries == nil {
				return usagef("nothing to change: give --ttl, --allow-transfer, --allow-update, --allow-notify, --notify or --primary")
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			z, err := c.UpdateZone(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return p.print(z, func(w io.Writer) { zoneTable(w, z) })
		},
	}
	tf.add(cmd.Flags())
	cmd.Flags().Uint32Var(&ttl, "ttl", 0, "default TTL of records created without one")
	return cmd
}
