package geo

import "net/netip"

// Chain consults locators in order: the first Known result wins, so an
// operator's CIDR table listed first overrides MaxMind.
//
// The winner's Prefix is narrowed to the misses' prefixes: if an earlier
// locator had no answer only for 10.2.0.0/15, a later one's 10.0.0.0/8
// applies, as far as the chain is concerned, to 10.2.0.0/15 alone.
type Chain []Locator

// Locate returns the first Known location, or an unknown one.
func (c Chain) Locate(addr netip.Addr) Location {
	var scope netip.Prefix // narrowest miss so far; all contain addr
	for _, l := range c {
		loc := l.Locate(addr)
		if loc.Known {
			if scope.IsValid() && (!loc.Prefix.IsValid() || scope.Bits() > loc.Prefix.Bits()) {
				loc.Prefix = scope
			}
			return loc
		}
		if loc.Prefix.IsValid() && loc.Prefix.Bits() > scope.Bits() {
			scope = loc.Prefix
		}
	}
	return Location{Prefix: scope}
}
