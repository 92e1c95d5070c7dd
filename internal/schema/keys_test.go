package schema

import (
	"bytes"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
)

func TestRRsetKeyReaderAgreesWithParseRRsetKey(t *testing.T) {
	var r RRsetKeyReader
	for _, key := range []string{
		"rrsets/example.com./www.example.com./A",
		"rrsets/example.com./example.com./SOA",
		"rrsets/example.com./*.wild.example.com./TXT",
		"rrsets/example.com./_sip._tcp.example.com./SRV",
		"rrsets/example.com./a-b.example.com./TYPE65000",
		`rrsets/example.com./a\047b.example.com./A`,
		`rrsets/example.com./a\ b.example.com./A`,
		`rrsets/example.com./A\065.example.com./A`,
		"rrsets/other.test./x.other.test./AAAA",
		"rrsets/./x./A",
		"rrsets/./../A",
		"rrsets/example.com./www.example.com./NOTATYPE",
		"rrsets/example.com./www.example.com./A/B",
		"rrsets/example.com./www.example.com.",
		"rrsets/example.com./a..example.com./A",
		"rrsets/example.com./www example.com./A",
		"zones/example.com.",
	} {
		z, k, ok := ParseRRsetKey(key)
		gz, gzw, gowner, gt, gok := r.Read(key)
		if gok != ok {
			t.Errorf("%q: ok %v, parseRRsetKey %v", key, gok, ok)
			continue
		}
		if !ok {
			continue
		}
		if gz != z || !bytes.Equal(gzw, z.Wire()) || !bytes.Equal(gowner, k.Name.Wire()) || gt != k.Type {
			t.Errorf("%q: got %s %x %x %d, want %s %x %x %d", key, gz, gzw, gowner, gt, z, z.Wire(), k.Name.Wire(), k.Type)
		}
	}
}

func TestPlainWire(t *testing.T) {
	var buf [256]byte
	long := ""
	for range 4 {
		long += "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa." // 62 + 1
	}
	for _, s := range []string{".", "a.", "www.example.com.", "*.x.", long, long + "a."} {
		w, ok := plainWire(&buf, s)
		if !ok || !bytes.Equal(w, model.MustName(s).Wire()) {
			t.Errorf("plainWire(%q) = %x, %v", s, w, ok)
		}
	}
	for _, s := range []string{"", "a", "A.", "a..b.", ".a.", `a\.b.`, "a b.", long + "aa."} {
		if w, ok := plainWire(&buf, s); ok {
			t.Errorf("plainWire(%q) = %x, want false", s, w)
		}
	}
}
