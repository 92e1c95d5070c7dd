package schema

import (
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

func TestAuditKeys(t *testing.T) {
	tests := []struct {
		stream string
	}{
		{AuditZoneStream("example.com.")},
		{AuditZoneStream(model.Name(`a\047b.example.`))},
		{AuditEndpointStream("api.example.com.", "fn-1")},
		{AuditTokenStream("t_abc")},
		{AuditDrillStream("failover")},
	}
	for _, tc := range tests {
		key := AuditEntryKey(tc.stream, 42)
		stream, seq, ok := ParseAuditEntryKey(key)
		if !ok || stream != tc.stream || seq != 42 {
			t.Errorf("%s: parsed %q %d %t", key, stream, seq, ok)
		}
	}
	for _, bad := range []string{"audit/", "audit/zone:x./12", "audit/0000000000000001", "zones/x./0000000000000001"} {
		if _, _, ok := ParseAuditEntryKey(bad); ok {
			t.Errorf("%s parsed as an entry key", bad)
		}
	}
}

func TestAuditCodec(t *testing.T) {
	e := &AuditEntry{Stream: "zone:example.com.", Seq: 3, Time: time.Unix(1, 5).UTC(), Action: "rrsets.change", Object: "zone example.com.", MAC: "ab"}
	b, err := EncodeAuditEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeAuditEntry(AuditEntryKey(e.Stream, 3), b)
	if err != nil || string(got.MACInput()) != string(e.MACInput()) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, tc := range []struct {
		key, want string
		value     []byte
	}{
		{AuditEntryKey(e.Stream, 4), "sequence number 3, its key names 4", b},
		{AuditEntryKey("zone:other.", 3), `stream "zone:example.com.", its key names "zone:other."`, b},
		{AuditEntryKey(e.Stream, 3), "null", []byte("null")},
		{"audit/nonsense", "audit/nonsense", b},
	} {
		if _, err := DecodeAuditEntry(tc.key, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.key, err, tc.want)
		}
	}
	// Fields do not run into each other: moving a byte between two
	// fields changes what the MAC covers.
	a := &AuditEntry{Object: "ab", Detail: "c"}
	c := &AuditEntry{Object: "a", Detail: "bc"}
	if string(a.MACInput()) == string(c.MACInput()) {
		t.Error("two entries with different fields have the same MAC input")
	}
}

func TestAuditKeyIDCodec(t *testing.T) {
	k := &AuditKeyID{ID: "ab12", Created: time.Unix(1, 0).UTC()}
	b, err := EncodeAuditKeyID(k)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeAuditKeyID(AuditKeyIDKey, b); err != nil || *got != *k {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, tc := range []struct {
		key, want string
		value     []byte
	}{
		{AuditKeyIDKey, "no key id", []byte(`{"created":"2026-01-01T00:00:00Z"}`)},
		{AuditKeyIDKey, "null", []byte("null")},
		{PrefixAuditKey + "other", PrefixAuditKey + "other", b},
	} {
		if _, err := DecodeAuditKeyID(tc.key, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}
}
