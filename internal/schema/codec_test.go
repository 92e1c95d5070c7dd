package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
)

// codecCase is one stored entity: its key, a value, and its codec.
type codecCase struct {
	name   string
	key    string
	value  any
	encode func() ([]byte, error)
	decode func(key string, b []byte) (any, error)
	// wrong are values of the entity that are not the one its key names.
	wrong []any
}

// with returns a copy of *v changed by f.
func with[T any](v *T, f func(*T)) *T {
	c := *v
	f(&c)
	return &c
}

func codecCases(t *testing.T) []codecCase {
	t.Helper()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	z := model.MustName("example.com.")
	soa, err := model.ParseRdata(model.TypeSOA, "ns1.example.com. hostmaster.example.com. 7 3600 600 1209600 60")
	if err != nil {
		t.Fatal(err)
	}
	rrset := &model.RRset{Name: "www.example.com.", Type: model.TypeA, TTL: 300, Rdata: [][]byte{{192, 0, 2, 1}, {192, 0, 2, 2}}}
	steered := &model.RRset{Name: "api.example.com.", Type: model.TypeCNAME, TTL: 30, Rdata: [][]byte{model.MustName("eu.example.net.").Wire()}}
	zr := &ZoneRecord{
		ZoneSettings: model.ZoneSettings{Name: z, SerialPolicy: model.SerialIncrement, DefaultTTL: 300, Created: at,
			Notify: []model.NotifyTarget{{Address: netip.MustParseAddrPort("192.0.2.53:53")}}},
		Updated: at, RRsets: 3, Records: 4, JournalFirst: 2, JournalNext: 9, JournalChanges: 5, JournalSteered: []uint64{4, 7},
	}
	je := &JournalEntry{Seq: 8, Zone: z, OldSerial: 6, NewSerial: 7, Time: at, Actor: "ci", Steered: true,
		Removed: []string{"www.example.com. 300 IN A 192.0.2.9"}, Added: []string{"www.example.com. 300 IN A 192.0.2.1"}}
	tok := &auth.Token{ID: "t1", Name: "ci", Hash: "ab12", Scopes: []string{"zones:write"}, Created: at}
	key := &model.TSIGKey{Name: "xfr.example.", Algorithm: "hmac-sha256", Secret: []byte("0123456789abcdef"), Created: at}
	svc := &model.Service{Name: "api.example.com.", Zone: z, TTL: 30, Policy: "failover", Created: at, Updated: at, Version: 3,
		Pools: []model.Pool{{Name: "eu", Priority: 1, Override: &model.Override{State: "down", Actor: "ops", Time: at}}}}
	ep := &model.Endpoint{Service: "api.example.com.", ID: "eu-1", Pool: "eu", Address: "192.0.2.10", Weight: 1,
		LeaseTTL: model.Duration(time.Minute), Expires: at.Add(time.Minute), Created: at, Renewed: at}
	lease := &Lease{Service: ep.Service, ID: ep.ID, LeaseTTL: ep.LeaseTTL, Expires: ep.Expires}
	run := &DrillRun{ID: fmt.Sprintf("dr/%d", at.UnixNano()), Drill: "dr", Started: at, Ended: at.Add(time.Minute), Passed: true, Actor: "ops", Report: json.RawMessage(`{"steps":[]}`)}
	ev := &StoredEvent{Seq: 12, Time: at, Key: "api.example.com.|eu-1", Old: "up", New: "down", Reason: "timeout", Actor: "health"}
	return []codecCase{
		{"zone", ZoneKey(z), zr, func() ([]byte, error) { return EncodeZone(zr) },
			func(k string, b []byte) (any, error) { return DecodeZone(k, b) },
			[]any{with(zr, func(r *ZoneRecord) { r.Name = "example.net." })}},
		{"rrset", RRsetKey(z, rrset.Key()), rrset, func() ([]byte, error) { return EncodeRRset(rrset) },
			func(k string, b []byte) (any, error) { return DecodeRRset(k, rrset.Key(), b) }, nil},
		{"soa", RRsetKey(z, model.Key{Name: z, Type: model.TypeSOA}), &model.RRset{Name: z, Type: model.TypeSOA, TTL: 60, Rdata: [][]byte{soa}},
			func() ([]byte, error) {
				return EncodeRRset(&model.RRset{Name: z, Type: model.TypeSOA, TTL: 60, Rdata: [][]byte{soa}})
			},
			func(k string, b []byte) (any, error) {
				return DecodeRRset(k, model.Key{Name: z, Type: model.TypeSOA}, b)
			}, nil},
		{"journal", JournalKey(z, 8), je, func() ([]byte, error) { return EncodeJournal(je) },
			func(k string, b []byte) (any, error) { return DecodeJournal(k, b) },
			[]any{with(je, func(e *JournalEntry) { e.Seq = 9 }), with(je, func(e *JournalEntry) { e.Zone = "example.net." })}},
		{"token", TokenKey(tok.ID), tok, func() ([]byte, error) { return EncodeToken(tok) },
			func(k string, b []byte) (any, error) { return DecodeToken(k, b) },
			[]any{with(tok, func(t *auth.Token) { t.ID = "t2" })}},
		{"tsig", TSIGKey(key.Name), key, func() ([]byte, error) { return EncodeTSIGKey(key) },
			func(k string, b []byte) (any, error) { return DecodeTSIGKey(k, b) },
			[]any{with(key, func(k *model.TSIGKey) { k.Name = "other.example." })}},
		{"service", ServiceKey(svc.Name), svc, func() ([]byte, error) { return EncodeService(svc) },
			func(k string, b []byte) (any, error) { return DecodeService(k, b) },
			[]any{with(svc, func(s *model.Service) { s.Name = "web.example.com." })}},
		{"endpoint", EndpointKey(ep.Service, ep.ID), ep, func() ([]byte, error) { return EncodeEndpoint(ep) },
			func(k string, b []byte) (any, error) { return DecodeEndpoint(k, b) },
			[]any{with(ep, func(e *model.Endpoint) { e.Service = "web.example.com." }), with(ep, func(e *model.Endpoint) { e.ID = "eu-2" })}},
		{"lease", EndpointKey(ep.Service, ep.ID), lease, func() ([]byte, error) { return EncodeEndpoint(ep) },
			func(k string, b []byte) (any, error) { return DecodeLease(k, b) },
			[]any{with(ep, func(e *model.Endpoint) { e.Service = "web.example.com." }), with(ep, func(e *model.Endpoint) { e.ID = "eu-2" })}},
		{"steered", SteeredKey(z, steered.Key()), steered, func() ([]byte, error) { return EncodeSteered(steered) },
			func(k string, b []byte) (any, error) { return DecodeSteered(k, steered.Key(), b) }, nil},
		{"drill run", DrillRunKey(run.Drill, at.UnixNano()), run, func() ([]byte, error) { return EncodeDrillRun(run) },
			func(k string, b []byte) (any, error) { return DecodeDrillRun(k, b) },
			[]any{with(run, func(r *DrillRun) { r.Drill = "other" }), with(run, func(r *DrillRun) { r.Started = at.Add(1) }),
				with(run, func(r *DrillRun) { r.ID = "dr/2" })}},
		{"event", EventKey(ev.Seq), ev, func() ([]byte, error) { return EncodeEvent(ev) },
			func(k string, b []byte) (any, error) { return DecodeEvent(k, b) },
			[]any{with(ev, func(e *StoredEvent) { e.Seq = 13 })}},
	}
}

// TestCodecsRoundTrip: every codec decodes what it encodes to an equal
// value, and refuses with an error naming the key a value it did not
// write: one that is not a value at all, null, or a record that is not
// the one its key names ({} among them).
func TestCodecsRoundTrip(t *testing.T) {
	for _, tc := range codecCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.decode(tc.key, b)
			if err != nil {
				t.Fatalf("decoding what was encoded: %v", err)
			}
			if !reflect.DeepEqual(got, tc.value) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, tc.value)
			}
			bads := [][]byte{{99}, nil, b[:len(b)-1], []byte("null"), []byte(" null\n"), []byte("{}")}
			for _, w := range tc.wrong {
				wb, err := json.Marshal(w)
				if err != nil {
					t.Fatal(err)
				}
				bads = append(bads, wb)
			}
			for _, bad := range bads {
				_, err := tc.decode(tc.key, bad)
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(err.Error(), tc.key) {
					t.Errorf("decoding %q: %v, want an error naming %s", bad, err, tc.key)
				}
			}
		})
	}
}

// TestKeyPrefixes: every key builder makes a key under one of the
// prefixes, and the parsers take back what the builders make.
func TestKeyPrefixes(t *testing.T) {
	prefixes := []string{PrefixZones, PrefixRRsets, PrefixJournal, PrefixSteered, PrefixTokens, PrefixTSIG,
		PrefixServices, PrefixEndpoints, PrefixDrillRuns, PrefixEvents}
	for _, tc := range codecCases(t) {
		n := 0
		for _, p := range prefixes {
			if strings.HasPrefix(tc.key, p) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s key %q is under %d prefixes", tc.name, tc.key, n)
		}
	}
	z := model.MustName("a/b.example.")
	k := model.Key{Name: model.MustName("www.a/b.example."), Type: model.TypeAAAA}
	if gz, gk, ok := ParseRRsetKey(RRsetKey(z, k)); !ok || gz != z || gk != k {
		t.Errorf("ParseRRsetKey(RRsetKey) = %s %v %v", gz, gk, ok)
	}
	if gz, gk, ok := ParseSteeredKey(SteeredKey(z, k)); !ok || gz != z || gk != k {
		t.Errorf("ParseSteeredKey(SteeredKey) = %s %v %v", gz, gk, ok)
	}
	if gz, ok := ParseZoneKey(ZoneKey(z)); !ok || gz != z {
		t.Errorf("ParseZoneKey(ZoneKey) = %s %v", gz, ok)
	}
	if n, ok := ParseServiceKey(ServiceKey(z)); !ok || n != z {
		t.Errorf("ParseServiceKey(ServiceKey) = %s %v", n, ok)
	}
	if s, id, ok := ParseEndpointKey(EndpointKey(z, "e1")); !ok || s != z || id != "e1" {
		t.Errorf("ParseEndpointKey(EndpointKey) = %s %s %v", s, id, ok)
	}
	if seq, err := JournalSeq(z, JournalKey(z, 42)); err != nil || seq != 42 {
		t.Errorf("JournalSeq(JournalKey) = %d %v", seq, err)
	}
	if seq, ok := ParseSeqKey(PrefixEvents, EventKey(7)); !ok || seq != 7 {
		t.Errorf("ParseSeqKey(EventKey) = %d %v", seq, ok)
	}
}

// TestBadKeys: a key under a prefix that does not fit the layout is
// corrupt, for the parsers that return errors and for the codecs.
func TestBadKeys(t *testing.T) {
	z := model.MustName("example.com.")
	for _, key := range []string{JournalPrefix(z) + "7", JournalPrefix(z) + "000000000000000g", JournalKey("example.net.", 7)} {
		if _, err := JournalSeq(z, key); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("JournalSeq(%s): %v, want an error naming the key", key, err)
		}
	}
	for _, tc := range codecCases(t) {
		if strings.HasPrefix(tc.key, PrefixRRsets) || strings.HasPrefix(tc.key, PrefixSteered) {
			continue // their keys are parsed by their readers
		}
		b, err := tc.encode()
		if err != nil {
			t.Fatal(err)
		}
		prefix := tc.key[:strings.IndexByte(tc.key, '/')+1]
		for _, key := range []string{prefix, prefix + "a..b/c/", tc.key + "/x"} {
			if _, err := tc.decode(key, b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
				t.Errorf("%s under %q: %v, want an error naming the key", tc.name, key, err)
			}
		}
	}
}

// BenchmarkDecodeEndpoint compares reading a whole endpoint with reading
// its lease alone, as the lease reaper does for every endpoint on each
// pass.
func BenchmarkDecodeEndpoint(b *testing.B) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ep := &model.Endpoint{Service: "api.example.com.", ID: "eu-1", Pool: "eu", Address: "192.0.2.10", Weight: 1,
		CheckTarget: "192.0.2.10:8080", LeaseTTL: model.Duration(time.Minute), Expires: at.Add(time.Minute),
		Override: &model.Override{State: "down", Actor: "ops", Reason: "maintenance", Time: at}, Created: at, Renewed: at}
	key := EndpointKey(ep.Service, ep.ID)
	v, err := EncodeEndpoint(ep)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("endpoint", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeEndpoint(key, v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lease", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeLease(key, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
