package model

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Name is a canonical domain name: absolute (ends in "."), lowercase, in
// presentation format with RFC 1035 escapes exactly as github.com/miekg/dns
// renders them. Two Names are equal if and only if they name the same node.
type Name string

// Root is the DNS root.
const Root Name = "."

// ParseName parses an absolute or relative presentation-format name and
// returns its canonical form. A name without a trailing dot is treated as
// absolute (this is the API convention; zone files resolve relative names
// themselves before they reach this package).
func ParseName(s string) (Name, error) {
	if s == "" {
		return "", fmt.Errorf("empty domain name")
	}
	if hasBareSpace(s) {
		return "", fmt.Errorf("domain name %q contains white space (escape it as \\032 or with a backslash)", s)
	}
	if _, ok := dns.IsDomainName(s); !ok {
		return "", fmt.Errorf("%q is not a valid domain name (labels at most 63 octets, name at most 255)", s)
	}
	return canonical(dns.Fqdn(s))
}

// MustName is ParseName for constants in tests and defaults; it panics on
// an invalid name.
func MustName(s string) Name {
	n, err := ParseName(s)
	if err != nil {
		panic(err)
	}
	return n
}

// canonical lowercases through the wire form so that escaped upper-case
// letters (\065) are folded too, and renders the result back.
func canonical(fqdn string) (Name, error) {
	var buf [256]byte
	off, err := dns.PackDomainName(fqdn, buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %v", fqdn, err)
	}
	lowerWire(buf[:off])
	s, _, err := dns.UnpackDomainName(buf[:off], 0)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %v", fqdn, err)
	}
	return Name(s), nil
}

// lowerWire folds ASCII upper case in a wire-format name in place. Label
// length octets are at most 63 and so never fall in 'A'..'Z'.
func lowerWire(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}

// String returns the name in presentation format.
func (n Name) String() string { return string(n) }

// Wire returns the name in uncompressed wire format (lowercase).
func (n Name) Wire() []byte {
	var buf [256]byte
	off, err := dns.PackDomainName(string(n), buf[:], 0, nil, false)
	if err != nil {
		// A Name is valid by construction.
		panic(fmt.Sprintf("model: invalid canonical name %q: %v", string(n), err))
	}
	return append([]byte(nil), buf[:off]...)
}

// NameFromWire converts an uncompressed wire-format name to a canonical Name.
func NameFromWire(b []byte) (Name, error) {
	s, _, err := dns.UnpackDomainName(b, 0)
	if err != nil {
		return "", err
	}
	return canonical(s)
}

// IsSubdomainOf reports whether n is parent or below it.
func (n Name) IsSubdomainOf(parent Name) bool {
	return dns.IsSubDomain(string(parent), string(n))
}

// Labels returns the number of labels in n (the root has none).
func (n Name) Labels() int { return dns.CountLabel(string(n)) }

// Parent returns the name one label up; the root's parent is the root.
func (n Name) Parent() Name {
	if n == Root {
		return Root
	}
	off, end := dns.NextLabel(string(n), 0)
	if end {
		return Root
	}
	return n[off:]
}

// IsWildcard reports whether the leftmost label of n is "*".
func (n Name) IsWildcard() bool { return strings.HasPrefix(string(n), "*.") }

// Relative renders n relative to origin for zone files and tables: "@" for
// the origin itself, the leading labels for names below it, and the absolute
// name otherwise.
func (n Name) Relative(origin Name) string {
	if n == origin {
		return "@"
	}
	if origin != Root && n.IsSubdomainOf(origin) {
		return string(n[:len(n)-len(origin)-1])
	}
	return string(n)
}

// ResolveOwner interprets an owner name given to the API or CLI for a record
// in zone: "@" or "" is the apex; a name with a trailing dot is absolute; a
// name without one that equals the zone or ends with "."+zone (both without
// the trailing dot) is taken as absolute too; anything else is relative to
// the zone, as in a zone file. The result must lie inside the zone.
func ResolveOwner(s string, zone Name) (Name, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "@" {
		return zone, nil
	}
	var abs string
	zoneNoDot := strings.TrimSuffix(string(zone), ".")
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(s, "."):
		abs = s
	case zone != Root && (lower == zoneNoDot || strings.HasSuffix(lower, "."+zoneNoDot)):
		abs = s + "."
	case zone == Root:
		abs = s + "."
	default:
		abs = s + "." + string(zone)
	}
	n, err := ParseName(abs)
	if err != nil {
		return "", err
	}
	if !n.IsSubdomainOf(zone) {
		return "", fmt.Errorf("%s is not in zone %s", n, zone)
	}
	return n, nil
}

// hasBareSpace reports whether s holds white space that is not escaped
// with a backslash.
func hasBareSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ' ', '\t', '\r', '\n':
			return true
		}
	}
	return false
}
