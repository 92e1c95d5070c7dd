package xfr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// updateEnv is newEnv with zone x.test updatable with the key "xfr.",
// served on a clock the test steps.
func updateEnv(t *testing.T) (*env, *time.Time) {
	t.Helper()
	e := newEnv(t, 1)
	ctx := context.Background()
	acl := []model.ACLRule{{Key: "xfr."}}
	_, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Update: &acl}, "test")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_900_000_000, 0)
	e.srv.now = func() time.Time { return clock }
	return e, &clock
}

// signedUpdate builds an UPDATE of x.test that adds name A addr, signed
// with e's key at signedAt with the given fudge.
func (e *env) signedUpdate(t *testing.T, name, addr string, signedAt time.Time, fudge uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate("x.test.")
	rr, err := dns.NewRR(fmt.Sprintf("%s 60 IN A %s", name, addr))
	if err != nil {
		t.Fatal(err)
	}
	m.Insert([]dns.RR{rr})
	m.SetTsig("xfr.", dns.HmacSHA512, fudge, signedAt.Unix())
	b, _, err := dns.TsigGenerate(m, e.key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer serves req over UDP and returns the one reply.
func (e *env) answer(t *testing.T, req []byte) *dns.Msg {
	t.Helper()
	msgs := e.serve(t, req, "10.0.0.1", false)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := new(dns.Msg)
	if err := r.Unpack(msgs[0]); err != nil {
		t.Fatal(err)
	}
	return r
}

// addresses returns the A records of name in x.test.
func (e *env) addresses(t *testing.T, name string) []string {
	t.Helper()
	sets, _, err := e.svc.Zones.RRsets(context.Background(), "x.test.", control.RRsetFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sets {
		if string(s.Name) == name && s.Type == model.TypeA {
			for _, rd := range s.Rdata {
				a, err := model.FormatRdata(model.TypeA, rd)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, a)
			}
		}
	}
	return out
}

func wantTSIGError(t *testing.T, r *dns.Msg, rcode int, tsigErr uint16) {
	t.Helper()
	ts := r.IsTsig()
	if r.Rcode != rcode || ts == nil || ts.Error != tsigErr {
		t.Fatalf("reply %v; want %s with TSIG error %s", r, dns.RcodeToString[rcode], dns.RcodeToString[int(tsigErr)])
	}
}

// TestReplayedUpdateRefused replays the exact bytes of a signed UPDATE
// that was applied, after the record it added was removed: the copy is
// refused (NOTAUTH, BADTIME, signed) and the record stays removed. Once
// the request's window has closed its MAC is forgotten.
func TestReplayedUpdateRefused(t *testing.T) {
	e, clock := updateEnv(t)
	pkt := e.signedUpdate(t, "r.x.test.", "192.0.2.77", *clock, 300)
	if r := e.answer(t, pkt); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("first UPDATE: %v", r)
	}
	if got := e.addresses(t, "r.x.test."); len(got) != 1 {
		t.Fatalf("after the UPDATE: %v", got)
	}
	_, err := e.svc.Zones.Apply(context.Background(), "x.test.", []model.Change{{Op: model.OpDelete, Name: "r.x.test.", Type: model.TypeA}}, control.WriteOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []time.Duration{0, time.Second, 300 * time.Second} {
		*clock = time.Unix(1_900_000_000, 0).Add(after)
		r := e.answer(t, pkt)
		wantTSIGError(t, r, dns.RcodeNotAuth, dns.RcodeBadTime)
		if r.IsTsig().MACSize == 0 {
			t.Errorf("replay %v later: the BADTIME reply is not signed", after)
		}
		if got := e.addresses(t, "r.x.test."); len(got) != 0 {
			t.Fatalf("replay %v later changed the zone: %v", after, got)
		}
	}
	if n := e.srv.replays.len(); n != 1 {
		t.Fatalf("%d MACs remembered, want 1", n)
	}
	// Past its window the old request fails the time check, and its MAC
	// leaves the cache when the next one comes in.
	*clock = time.Unix(1_900_000_000, 0).Add(301 * time.Second)
	wantTSIGError(t, e.answer(t, pkt), dns.RcodeNotAuth, dns.RcodeBadTime)
	if r := e.answer(t, e.signedUpdate(t, "s.x.test.", "192.0.2.78", *clock, 300)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("fresh UPDATE: %v", r)
	}
	if n := e.srv.replays.len(); n != 1 {
		t.Fatalf("%d MACs remembered, want 1: the expired one is still there", n)
	}
}

// TestReplayedNotifyRefused: a copy of a signed NOTIFY is refused and not
// handed to the secondary zones.
func TestReplayedNotifyRefused(t *testing.T) {
	e, clock := updateEnv(t)
	n := &notified{known: true, allowed: true}
	e.srv.SetNotified(n)
	m := new(dns.Msg)
	m.SetNotify("x.test.")
	m.SetTsig("xfr.", dns.HmacSHA512, 300, clock.Unix())
	pkt, _, err := dns.TsigGenerate(m, e.key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.answer(t, pkt); r.Rcode != dns.RcodeSuccess || n.key != "xfr." {
		t.Fatalf("first NOTIFY: %v (key %q)", r, n.key)
	}
	n.zone, n.key = "", ""
	wantTSIGError(t, e.answer(t, pkt), dns.RcodeNotAuth, dns.RcodeBadTime)
	if n.zone != "" {
		t.Fatal("the replayed NOTIFY was handed over")
	}
}

// TestLargeFudgeRefused: a request allowing more clock skew than the
// limit is refused with BADTIME, signed, and changes nothing, even when
// signed just now; the limit is configurable.
func TestLargeFudgeRefused(t *testing.T) {
	e, clock := updateEnv(t)
	r := e.answer(t, e.signedUpdate(t, "f.x.test.", "192.0.2.79", *clock, 3600))
	wantTSIGError(t, r, dns.RcodeNotAuth, dns.RcodeBadTime)
	if got := e.addresses(t, "f.x.test."); len(got) != 0 {
		t.Fatalf("the UPDATE was applied: %v", got)
	}
	if r := e.answer(t, e.signedUpdate(t, "f.x.test.", "192.0.2.79", *clock, 301)); r.Rcode != dns.RcodeNotAuth {
		t.Fatalf("fudge 301: %v", r)
	}
	e.srv.SetTSIGLimits(TSIGLimits{MaxFudge: 3600})
	if r := e.answer(t, e.signedUpdate(t, "f.x.test.", "192.0.2.79", clock.Add(-time.Hour), 3600)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("fudge 3600 with tsig.max_fudge 3600: %v", r)
	}
}

// TestMisplacedTSIG: a TSIG record that is not the last record of the
// additional section, or that stands in another section, is FORMERR
// (RFC 8945 section 5.1), and the request changes nothing.
func TestMisplacedTSIG(t *testing.T) {
	e, clock := updateEnv(t)
	extra := &dns.A{Hdr: dns.RR_Header{Name: "g.x.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 80}}
	for _, tc := range []struct {
		name string
		move func(m *dns.Msg)
	}{
		{"a record after the TSIG", func(m *dns.Msg) { m.Extra = append(m.Extra, extra) }},
		{"two TSIG records", func(m *dns.Msg) { m.Extra = append(m.Extra, m.Extra[len(m.Extra)-1]) }},
		{"TSIG in the update section", func(m *dns.Msg) { m.Ns = append(m.Ns, m.Extra[len(m.Extra)-1]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			if err := m.Unpack(e.signedUpdate(t, "g.x.test.", "192.0.2.80", *clock, 300)); err != nil {
				t.Fatal(err)
			}
			tc.move(m)
			m.Compress = false
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if r := e.answer(t, pkt); r.Rcode != dns.RcodeFormatError {
				t.Fatalf("reply %v; want FORMERR", r)
			}
			if got := e.addresses(t, "g.x.test."); len(got) != 0 {
				t.Fatalf("the UPDATE was applied: %v", got)
			}
		})
	}
}

// TestReplayCacheBound: the cache keeps at most its limit, dropping the
// entry whose window closes first, and forgets entries whose window has
// closed.
func TestReplayCacheBound(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	c := newReplayCache(3, nil)
	for i, until := range []int64{100, 50, 200} {
		if c.seen("k.", fmt.Sprint(i), now.Unix()+until, now) {
			t.Fatalf("MAC %d seen before", i)
		}
	}
	if !c.seen("k.", "1", now.Unix()+50, now) {
		t.Fatal("a copy was not recognised")
	}
	if c.seen("other.", "1", now.Unix()+50, now) {
		t.Fatal("the same MAC under another key was taken for a copy")
	}
	if n := c.len(); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	if c.seen("k.", "1", now.Unix()+50, now) {
		t.Fatal("the entry closest to its expiry (MAC 1) was not the one dropped")
	}
	if !c.seen("k.", "2", now.Unix()+200, now) {
		t.Fatal("MAC 2 was dropped")
	}
	later := now.Add(201 * time.Second)
	if c.seen("k.", "2", now.Unix()+200, later) {
		t.Fatal("MAC 2 kept after its window")
	}
	if n := c.len(); n != 1 {
		t.Fatalf("%d entries after every window closed but the newest, want 1", n)
	}
}
