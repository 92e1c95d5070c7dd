package update

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// Applier is the write path an update goes through. *control.Zones is
// one.
type Applier interface {
	DynamicUpdate(ctx context.Context, z model.Name, prereqs []control.Prereq, ops []control.UpdateOp, actor string, allow func(*model.ZoneSettings) error) (control.ChangeResult, error)
}

// Apply parses and applies the update m from from, signed with the
// verified key ("" when unsigned), and returns the rcode to answer with.
func Apply(ctx context.Context, w Applier, m *dns.Msg, key model.Name, from netip.Addr, log *slog.Logger) int {
	r, err := Parse(m)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			log.Info("update refused", "error", pe.Reason, "rcode", dns.RcodeToString[pe.Rcode], "from", from, "key", key)
			return pe.Rcode
		}
		return dns.RcodeServerFailure
	}
	actor := string(key)
	if actor == "" {
		actor = "update from " + from.String()
	}
	ctx = audit.WithOrigin(ctx, audit.TSIG(string(key)), from.String())
	res, err := w.DynamicUpdate(ctx, r.Zone, r.Prereqs, r.Ops, actor, func(zs *model.ZoneSettings) error {
		if !model.ACLAllows(zs.ACL.Update, key, from) {
			return control.ErrUpdateRefused
		}
		return nil
	})
	rcode := rcodeOf(err)
	attrs := []any{"zone", r.Zone, "rcode", dns.RcodeToString[rcode], "from", from, "key", key}
	switch {
	case err == nil:
		log.Info("update applied", append(attrs, "changed", res.Changed, "serial", res.Serial)...)
	case rcode == dns.RcodeServerFailure:
		log.Warn("update failed", append(attrs, "err", err)...)
	default:
		log.Info("update refused", append(attrs, "err", err)...)
	}
	return rcode
}

// rcodeOf maps the write path's outcome to the update's rcode.
func rcodeOf(err error) int {
	var pe *control.PrereqError
	switch {
	case err == nil:
		return dns.RcodeSuccess
	case errors.As(err, &pe):
		return map[control.PrereqKind]int{
			control.NameInUse:      dns.RcodeNameError,
			control.NameNotInUse:   dns.RcodeYXDomain,
			control.RRsetExists:    dns.RcodeNXRrset,
			control.RRsetNotExists: dns.RcodeYXRrset,
			control.RRsetEquals:    dns.RcodeNXRrset,
		}[pe.Prereq.Kind]
	case errors.Is(err, control.ErrZoneNotFound):
		return dns.RcodeNotAuth
	case errors.Is(err, control.ErrUpdateRefused), model.IsValidation(err):
		// A result the zone cannot hold (records at a steered name, a
		// CNAME beside other data at a delegation...) is refused whole.
		return dns.RcodeRefused
	}
	return dns.RcodeServerFailure
}
