package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// ACLRule allows a request that satisfies everything the rule names: a
// valid signature with the TSIG key Key, and/or a source address inside
// Network. A rule names at least one of them; "any source" is written
// 0.0.0.0/0 and ::/0.
type ACLRule struct {
	Key     Name         `json:"key,omitempty"`
	Network netip.Prefix `json:"network,omitzero"`
}

// ZoneACL says who may transfer a zone (AXFR, IXFR), update it (RFC 2136
// UPDATE) and tell it of a new serial (NOTIFY, for a secondary zone).
// Each list allows a request that any one of its rules allows; an empty
// list allows nobody.
type ZoneACL struct {
	Transfer []ACLRule `json:"transfer,omitempty"`
	Update   []ACLRule `json:"update,omitempty"`
	Notify   []ACLRule `json:"notify,omitempty"`
}

// IsZero reports whether the ACL allows nothing at all.
func (a ZoneACL) IsZero() bool {
	return len(a.Transfer) == 0 && len(a.Update) == 0 && len(a.Notify) == 0
}

// NotifyTarget is a secondary told of each new serial of a zone (RFC 1996),
// signed with Key when set.
type NotifyTarget struct {
	Address netip.AddrPort `json:"address"`
	Key     Name           `json:"key,omitempty"`
}

// Allows reports whether a request from src, signed and verified with the
// key named key ("" when unsigned), satisfies the rule.
func (r ACLRule) Allows(key Name, src netip.Addr) bool {
	if r.Key != "" && r.Key != key {
		return false
	}
	if r.Network.IsValid() && !r.Network.Contains(src.Unmap()) {
		return false
	}
	return r.Key != "" || r.Network.IsValid()
}

// ACLAllows reports whether any rule allows the request.
func ACLAllows(rules []ACLRule, key Name, src netip.Addr) bool {
	for _, r := range rules {
		if r.Allows(key, src) {
			return true
		}
	}
	return false
}

// ParseACLRule reads the rule syntax the CLI takes: "key=NAME",
// "network=CIDR", both separated by a comma, or a bare address or CIDR.
func ParseACLRule(s string) (ACLRule, error) {
	var r ACLRule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			k, v = "network", part
		}
		switch k {
		case "key":
			n, err := ParseName(v)
			if err != nil {
				return r, fmt.Errorf("key %q: %v", v, err)
			}
			r.Key = n
		case "network":
			p, err := ParseNetwork(v)
			if err != nil {
				return r, err
			}
			r.Network = p
		default:
			return r, fmt.Errorf("unknown field %q in %q (want key=NAME and/or network=CIDR)", k, s)
		}
	}
	return r, r.Validate()
}

// ParseNetwork reads a CIDR prefix, or an address as a one-address prefix.
func ParseNetwork(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("network %q: want an address or CIDR prefix such as 192.0.2.0/24", s)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("network %q has host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

// Validate checks that the rule names a key or a network.
func (r ACLRule) Validate() error {
	if r.Key == "" && !r.Network.IsValid() {
		return fmt.Errorf("a rule names a key, a network or both (for any source: network=0.0.0.0/0)")
	}
	if r.Network.IsValid() && r.Network.Masked() != r.Network {
		return fmt.Errorf("network %s has host bits set", r.Network)
	}
	return nil
}

// ParseNotifyTarget reads "ADDRESS[:PORT]" (port 53 by default) with an
// optional ",key=NAME".
func ParseNotifyTarget(s string) (NotifyTarget, error) {
	var t NotifyTarget
	addr, rest, _ := strings.Cut(s, ",")
	if rest != "" {
		k, v, ok := strings.Cut(strings.TrimSpace(rest), "=")
		if !ok || k != "key" {
			return t, fmt.Errorf("%q: after the address, only key=NAME", s)
		}
		n, err := ParseName(v)
		if err != nil {
			return t, fmt.Errorf("key %q: %v", v, err)
		}
		t.Key = n
	}
	addr = strings.TrimSpace(addr)
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		t.Address = ap
	} else if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		t.Address = netip.AddrPortFrom(a, 53)
	} else {
		return t, fmt.Errorf("address %q: want IP or IP:PORT ([IPv6]:PORT)", addr)
	}
	return t, t.Validate()
}

// Validate checks the target's address.
func (t NotifyTarget) Validate() error {
	if !t.Address.Addr().IsValid() || t.Address.Port() == 0 {
		return fmt.Errorf("address %q: want IP:PORT with a port", t.Address)
	}
	if t.Address.Addr().IsUnspecified() {
		return fmt.Errorf("address %s is unspecified", t.Address)
	}
	return nil
}

// KeyRef is a TSIG key named by a zone setting, and the field naming it.
type KeyRef struct {
	Field string
	Key   Name
}

// ValidateTransfer checks every ACL rule and NOTIFY target, naming the
// offending one, and returns the TSIG keys they name, for the caller to
// check that they exist.
func (s *ZoneSettings) ValidateTransfer() ([]KeyRef, error) {
	var keys []KeyRef
	for _, list := range []struct {
		field string
		rules []ACLRule
	}{{"acl.transfer", s.ACL.Transfer}, {"acl.update", s.ACL.Update}, {"acl.notify", s.ACL.Notify}} {
		for i, r := range list.rules {
			field := fmt.Sprintf("%s[%d]", list.field, i)
			if err := r.Validate(); err != nil {
				return nil, Errorf(field, "%v", err)
			}
			if r.Key != "" {
				keys = append(keys, KeyRef{field + ".key", r.Key})
			}
		}
	}
	for i, p := range s.Primaries {
		field := fmt.Sprintf("primaries[%d]", i)
		if err := p.Validate(); err != nil {
			return nil, Errorf(field, "%v", err)
		}
		if p.Key != "" {
			keys = append(keys, KeyRef{field + ".key", p.Key})
		}
	}
	seen := map[netip.AddrPort]bool{}
	for i, t := range s.Notify {
		field := fmt.Sprintf("notify[%d]", i)
		if err := t.Validate(); err != nil {
			return nil, Errorf(field, "%v", err)
		}
		if seen[t.Address] {
			return nil, Errorf(field, "%s is listed twice", t.Address)
		}
		seen[t.Address] = true
		if t.Key != "" {
			keys = append(keys, KeyRef{field + ".key", t.Key})
		}
	}
	return keys, nil
}
