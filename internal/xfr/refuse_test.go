package xfr

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/lograte"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
)

// checkingNotified is a notified that also answers CheckNotify, and counts
// the NOTIFY messages that reached Notify.
type checkingNotified struct {
	notified
	sure  bool
	calls int // Serve runs in the test's goroutine
}

func (n *checkingNotified) Notify(ctx context.Context, z, key model.Name, from netip.Addr, serial *uint32) (bool, bool, error) {
	n.calls++
	return n.notified.Notify(ctx, z, key, from, serial)
}

func (n *checkingNotified) CheckNotify(z model.Name, from netip.Addr) (bool, bool, bool) {
	return n.known, n.allowed, n.sure
}

func notifyRequest(t *testing.T, zone string, key *model.TSIGKey) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify(zone)
	m.SetEdns0(1232, false)
	if key == nil {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m.SetTsig(string(key.Name), dns.HmacSHA512, 300, time.Now().Unix())
	b, _, err := dns.TsigGenerate(m, key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func updateRequest(t *testing.T, zone string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate(zone)
	rr, _ := dns.NewRR("new." + zone + " 60 IN A 192.0.2.1")
	m.Insert([]dns.RR{rr})
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEarlyRefusals: an unsigned NOTIFY that can only be refused, and an
// unsigned UPDATE to a zone not served here, are answered without
// reaching the full path (Notify is not called); the others take it.
func TestEarlyRefusals(t *testing.T) {
	e := newEnv(t, 1)
	e.srv.SetServed(e.pub.Snapshots())
	for _, tc := range []struct {
		name      string
		n         checkingNotified
		req       func(t *testing.T) []byte
		rcode     int
		opcode    int
		wantCalls int
	}{
		{"notify, no such secondary", checkingNotified{sure: true}, func(t *testing.T) []byte { return notifyRequest(t, "nope.test.", nil) }, dns.RcodeNotAuth, dns.OpcodeNotify, 0},
		{"notify, sender not allowed", checkingNotified{notified: notified{known: true}, sure: true}, func(t *testing.T) []byte { return notifyRequest(t, "X.test.", nil) }, dns.RcodeRefused, dns.OpcodeNotify, 0},
		{"notify, allowed", checkingNotified{notified: notified{known: true, allowed: true}, sure: true}, func(t *testing.T) []byte { return notifyRequest(t, "x.test.", nil) }, dns.RcodeSuccess, dns.OpcodeNotify, 1},
		{"notify, checker unsure", checkingNotified{}, func(t *testing.T) []byte { return notifyRequest(t, "x.test.", nil) }, dns.RcodeNotAuth, dns.OpcodeNotify, 1},
		{"notify, signed", checkingNotified{sure: true}, func(t *testing.T) []byte { return notifyRequest(t, "x.test.", e.key) }, dns.RcodeNotAuth, dns.OpcodeNotify, 1},
		{"update, zone not served", checkingNotified{}, func(t *testing.T) []byte { return updateRequest(t, "Nope.test.") }, dns.RcodeNotAuth, dns.OpcodeUpdate, 0},
		{"update, zone served, ACL refuses", checkingNotified{}, func(t *testing.T) []byte { return updateRequest(t, "x.test.") }, dns.RcodeRefused, dns.OpcodeUpdate, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			e.srv.SetNotified(&n)
			req := tc.req(t)
			q := new(dns.Msg)
			if err := q.Unpack(req); err != nil {
				t.Fatal(err)
			}
			_, r := unpack(t, e.serve(t, req, "192.0.2.7", false))
			if r == nil || r.Rcode != tc.rcode || r.Opcode != tc.opcode || r.Id != q.Id {
				t.Fatalf("answer %v, want rcode %s", r, dns.RcodeToString[tc.rcode])
			}
			if len(r.Question) != 1 || r.Question[0] != q.Question[0] || (r.IsEdns0() == nil) != (q.IsEdns0() == nil) {
				t.Errorf("question %v, OPT %v; want %v echoed, OPT as asked", r.Question, r.IsEdns0(), q.Question[0])
			}
			if n.calls != tc.wantCalls {
				t.Errorf("Notify called %d times, want %d", n.calls, tc.wantCalls)
			}
		})
	}
}

// TestRefusalsLogLimited: a flood of NOTIFY and UPDATE messages that are
// refused writes a few lines of each kind, then, once the interval is
// over, one line counting the others.
func TestRefusalsLogLimited(t *testing.T) {
	e := newEnv(t, 1)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	fake := clock.NewFake(time.Now())
	e.srv = New(e.svc.Zones, e.svc.TSIGKeys, log)
	e.srv.limited = lograte.New(log, 5, time.Minute, fake).Logger()
	const flood = 100
	for _, tc := range []struct {
		kind string
		n    Notified
		req  []byte
	}{
		{"notify received", &checkingNotified{sure: true}, notifyRequest(t, "nope.test.", nil)},
		{"notify received", &notified{known: true}, notifyRequest(t, "x.test.", nil)}, // the full path
		{"update refused", nil, updateRequest(t, "x.test.")},
	} {
		fake.Step(time.Minute) // each kind starts its interval afresh
		buf.Reset()
		e.srv.SetNotified(tc.n)
		for range flood {
			if out := e.serve(t, tc.req, "192.0.2.7", false); len(out) != 1 {
				t.Fatalf("%s: %d replies", tc.kind, len(out))
			}
		}
		if n := strings.Count(buf.String(), "msg=\""+tc.kind+"\""); n != 5 {
			t.Errorf("%d %s NOTIFY/UPDATE messages: %d lines, want 5:\n%s", flood, tc.kind, n, buf.String())
		}
		fake.Step(time.Minute)
		e.serve(t, tc.req, "192.0.2.7", false)
		if want := `msg="log lines suppressed" kind="` + tc.kind + `" suppressed=95`; !strings.Contains(buf.String(), want) {
			t.Errorf("no count of the suppressed lines (%s) in:\n%s", want, buf.String())
		}
	}
}

// TestRefusalsCountedAfterFlood: when a flood of refused requests stops,
// Run still writes how many lines it left out, without another request.
func TestRefusalsCountedAfterFlood(t *testing.T) {
	e := newEnv(t, 1)
	var buf testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	fake := clock.NewFake(time.Now())
	e.srv = New(e.svc.Zones, e.svc.TSIGKeys, log)
	e.srv.rate = lograte.New(log, 5, time.Minute, fake)
	e.srv.limited = e.srv.rate.Logger()
	for range 20 {
		e.serve(t, updateRequest(t, "x.test."), "192.0.2.7", false)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.srv.Run(ctx)
	for fake.Armed() == 0 {
		runtime.Gosched()
	}
	fake.Step(time.Minute)
	const want = `msg="log lines suppressed" kind="update refused" suppressed=15`
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no count of the suppressed lines (%s) in:\n%s", want, buf.String())
		}
		time.Sleep(time.Millisecond)
	}
}
