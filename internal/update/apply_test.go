package update

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// originApplier keeps the audit origin each update is applied under.
type originApplier struct{ got []audit.Origin }

func (a *originApplier) DynamicUpdate(ctx context.Context, _ model.Name, _ []control.Prereq, _ []control.UpdateOp, _ string, _ func(*model.ZoneSettings) error) (control.ChangeResult, error) {
	o, _ := audit.FromContext(ctx)
	a.got = append(a.got, o)
	return control.ChangeResult{}, nil
}

// TestApplyAuditOrigin: an update is applied as the TSIG key that signed
// it (or "unsigned") from the client's address, which the audit log
// records.
func TestApplyAuditOrigin(t *testing.T) {
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	m.Insert([]dns.RR{rr(t, "www.example.com. 60 IN A 192.0.2.1")})
	from := netip.MustParseAddr("198.51.100.7")
	a := &originApplier{}
	log := slog.New(slog.DiscardHandler)
	for _, key := range []model.Name{"upd.example.", ""} {
		if rc := Apply(context.Background(), a, m, key, from, log); rc != dns.RcodeSuccess {
			t.Fatalf("rcode %d", rc)
		}
	}
	want := []string{"tsig:upd.example.", "tsig:unsigned"}
	for i, o := range a.got {
		if o.Actor.String() != want[i] || o.Source != "198.51.100.7" {
			t.Errorf("update %d applied as %+v, want %s from 198.51.100.7", i, o, want[i])
		}
	}
}
