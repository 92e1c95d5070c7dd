package geo

import "net/netip"

// Location is where a client address is, as far as the tables know.
type Location struct {
	// Known reports whether any table had an answer for the address.
	Known bool
	// Region is an operator-defined region name (from the CIDR table),
	// e.g. "eu-west".
	Region string
	// Country is an ISO 3166-1 alpha-2 code, upper case.
	Country string
	// Continent is one of AF AN AS EU NA OC SA.
	Continent string
	// Lat and Lon are in degrees; they mean something only if HasCoords.
	Lat, Lon  float64
	HasCoords bool
	// Prefix is the network the answer applies to, used as the EDNS Client
	// Subnet scope: every address in it gets the same answer. It is the
	// MaxMind network, or the matched CIDR entry less any more specific
	// entry nested in it (10.2.3.4 matching 10.0.0.0/8 gives 10.2.0.0/15
	// when the table also has 10.1.0.0/16). When Known is false, Prefix
	// may still be set: the largest network around the address for which
	// the table has no answer either.
	Prefix netip.Prefix
}

// Locator maps a client address to a location. Implementations in this
// package are safe for concurrent use, allocation-free, and never block.
type Locator interface {
	Locate(addr netip.Addr) Location
}
