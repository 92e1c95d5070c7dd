package querylog

import (
	"encoding/json"
	"testing"

	"github.com/stratusdns/stratus/internal/dnsserver"
)

// FuzzEntry: whatever name a client sends, its line is one valid JSON
// object.
func FuzzEntry(f *testing.F) {
	f.Add([]byte("\x03www\x07example\x03com\x00"), "example.com.")
	f.Add([]byte("\x04a.\"\x01\x00"), "")
	f.Add([]byte("\x3f\\"), "a\"b\n")
	f.Fuzz(func(t *testing.T, qname []byte, zone string) {
		l := &Log{opts: Options{Anonymize: true, IPv4Prefix: 24, IPv6Prefix: 48}}
		line := l.appendEntry(nil, &dnsserver.TapRecord{Qname: qname, Zone: zone})
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	})
}
