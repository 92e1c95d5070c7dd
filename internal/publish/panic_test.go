package publish_test

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestPanicWhileApplyingReloads: a panic while applying a revision is
// recovered, logged with its stack and counted; the publisher reloads the
// store and goes on publishing, the change that panicked included.
func TestPanicWhileApplyingReloads(t *testing.T) {
	var armed atomic.Bool
	publish.SetApplyHook(t, func(store.Batch) {
		if armed.CompareAndSwap(true, false) {
			panic("apply broke")
		}
	})
	var logs testutil.LogBuffer
	e := controltest.Start(t, control.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	before := telemetry.PanicCount("publisher")
	armed.Store(true)
	// CreateZone returns once its revision is published: after the
	// reload that follows the panic.
	controltest.CreateZone(t, e.Plane, "a.test.")
	if armed.Load() {
		t.Fatal("the hook did not run")
	}
	if a := served(e.Pub, "a.test.", dns.TypeSOA); a.Rcode != dns.RcodeSuccess || len(a.Answer) == 0 {
		t.Errorf("the zone written when the publisher panicked is not served: %+v", a)
	}
	if n := telemetry.PanicCount("publisher") - before; n != 1 {
		t.Errorf("panics counted: %v, want 1", n)
	}
	controltest.CreateZone(t, e.Plane, "b.test.")
	if a := served(e.Pub, "b.test.", dns.TypeSOA); a.Rcode != dns.RcodeSuccess || len(a.Answer) == 0 {
		t.Errorf("a zone written after the panic is not served: %+v", a)
	}
	log := logs.String()
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=publisher", `panic="apply broke"`, "runtime/debug.Stack", "snapshot publisher failed; reloading"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
