package model

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseACLRule(t *testing.T) {
	for _, tc := range []struct{ in, key, network, err string }{
		{in: "key=xfr.example", key: "xfr.example."},
		{in: "network=10.0.0.0/8", network: "10.0.0.0/8"},
		{in: "192.0.2.1", network: "192.0.2.1/32"},
		{in: "2001:db8::/32", network: "2001:db8::/32"},
		{in: "key=k, network=127.0.0.0/8", key: "k.", network: "127.0.0.0/8"},
		{in: "10.0.0.1/8", err: "host bits set (did you mean 10.0.0.0/8?)"},
		{in: "nonsense", err: `network "nonsense"`},
		{in: "user=bob", err: `unknown field "user"`},
		{in: "key=a..b", err: `key "a..b"`},
	} {
		r, err := ParseACLRule(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(r.Key) != tc.key || (tc.network != "" && r.Network.String() != tc.network) || (tc.network == "" && r.Network.IsValid()) {
			t.Errorf("%q: %+v %v", tc.in, r, err)
		}
	}
}

func TestACLAllows(t *testing.T) {
	rules := []ACLRule{
		{Key: "xfr."},
		{Network: netip.MustParsePrefix("10.0.0.0/8")},
		{Key: "both.", Network: netip.MustParsePrefix("192.0.2.0/24")},
	}
	for _, tc := range []struct {
		key  Name
		src  string
		want bool
	}{
		{"xfr.", "203.0.113.1", true},
		{"", "10.1.2.3", true},
		{"", "::ffff:10.1.2.3", true},
		{"other.", "10.1.2.3", true}, // the network rule does not ask for a key
		{"both.", "192.0.2.7", true},
		{"both.", "198.51.100.1", false},
		{"", "192.0.2.7", false},
		{"", "203.0.113.1", false},
	} {
		if got := ACLAllows(rules, tc.key, netip.MustParseAddr(tc.src)); got != tc.want {
			t.Errorf("key %q from %s: %v, want %v", tc.key, tc.src, got, tc.want)
		}
	}
	if ACLAllows(nil, "xfr.", netip.MustParseAddr("127.0.0.1")) || (ACLRule{}).Allows("", netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty list or rule allows")
	}
}

func TestParseNotifyTarget(t *testing.T) {
	for _, tc := range []struct{ in, addr, key, err string }{
		{in: "192.0.2.1", addr: "192.0.2.1:53"},
		{in: "192.0.2.1:5300,key=xfr", addr: "192.0.2.1:5300", key: "xfr."},
		{in: "[2001:db8::1]:53", addr: "[2001:db8::1]:53"},
		{in: "2001:db8::1", addr: "[2001:db8::1]:53"},
		{in: "ns1.example.com", err: "want IP or IP:PORT"},
		{in: "192.0.2.1,secret=x", err: "only key=NAME"},
		{in: "0.0.0.0:53", err: "unspecified"},
	} {
		got, err := ParseNotifyTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Address.String() != tc.addr || string(got.Key) != tc.key {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}

func TestValidateTransfer(t *testing.T) {
	s := ZoneSettings{
		ACL:    ZoneACL{Transfer: []ACLRule{{Key: "a."}}, Update: []ACLRule{{Network: netip.MustParsePrefix("10.0.0.0/8")}, {}}},
		Notify: []NotifyTarget{{Address: netip.MustParseAddrPort("127.0.0.1:53"), Key: "b."}},
	}
	if _, err := s.ValidateTransfer(); err == nil || !strings.HasPrefix(err.Error(), "acl.update[1]: ") {
		t.Errorf("empty rule: %v", err)
	}
	s.ACL.Update = s.ACL.Update[:1]
	keys, err := s.ValidateTransfer()
	if err != nil || len(keys) != 2 || keys[0] != (KeyRef{"acl.transfer[0].key", "a."}) || keys[1] != (KeyRef{"notify[0].key", "b."}) {
		t.Errorf("keys %v, %v", keys, err)
	}
	s.Notify = append(s.Notify, s.Notify[0])
	if _, err := s.ValidateTransfer(); err == nil || !strings.HasPrefix(err.Error(), "notify[1]: ") {
		t.Errorf("duplicate target: %v", err)
	}
}
