package e2e

import (
	"slices"
	"testing"
)

// TestSteerANY: an ANY query at a steered name answers one RRset of it
// (RFC 8482): the addresses of the family the service has, AAAA when it
// has no IPv4 endpoint.
func TestSteerANY(t *testing.T) {
	t.Parallel()
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"v4.fn.example.com","ttl":30,"pools":[{"name":"p","check":{"type":"none"}}]}`)
	steerService(t, s, `{"name":"v6.fn.example.com","ttl":30,"pools":[{"name":"p","check":{"type":"none"}}]}`)
	steerEndpoint(t, s, "v4.fn.example.com", "a", `{"pool":"p","address":"192.0.2.10"}`)
	steerEndpoint(t, s, "v6.fn.example.com", "a", `{"pool":"p","address":"2001:db8::10"}`)
	for _, tc := range []struct{ name, want string }{
		{"v4.fn.example.com", "v4.fn.example.com. 30 IN A 192.0.2.10"},
		{"v6.fn.example.com", "v6.fn.example.com. 30 IN AAAA 2001:db8::10"},
	} {
		status, answer, _ := steerDigParse(t, steerDig(t, s, tc.name, "ANY"))
		if status != "NOERROR" || !slices.Equal(answer, []string{tc.want}) {
			t.Errorf("dig %s ANY = %s %q, want %q", tc.name, status, answer, tc.want)
		}
	}
}
