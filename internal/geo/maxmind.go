package geo

import (
	"net/netip"
	"sync/atomic"
)

// MaxMind is a MaxMind DB (GeoLite2/GeoIP2 City or Country, or any database
// with the same fields) flattened into memory: sorted address ranges, each
// with a small index into a deduplicated slice of locations. Lookups decode
// nothing, allocate nothing and never touch the file, which is closed once
// loaded. A MaxMind is safe for concurrent use.
type MaxMind struct {
	data     atomic.Pointer[mmData]
	networks int
}

// mmData is the flattened database. A segment's value is
// location index << 8 | network prefix length, or noValue.
type mmData struct {
	v4   table4
	v6   table6
	locs []mmLoc
}

// mmLoc is a location as stored, in 24 bytes.
type mmLoc struct {
	lat, lon  float64
	country   uint16 // countryIndex, or 0 for none
	continent uint8  // continentIndex, or 0 for none
	hasCoords bool
}

func (l *mmLoc) location(p netip.Prefix) Location {
	loc := Location{Known: true, Lat: l.lat, Lon: l.lon, HasCoords: l.hasCoords, Prefix: p}
	if l.country != 0 {
		loc.Country = countryCodes[l.country-1]
	}
	if l.continent != 0 {
		loc.Continent = continents[l.continent-1]
	}
	return loc
}

// Locate returns the location of the database network holding addr, with
// that network as Prefix. With no network, Known is false and Prefix is the
// largest network around addr that the database has no data for. An
// IPv4-mapped IPv6 address is looked up as IPv4. After Close every address
// is unknown.
func (m *MaxMind) Locate(addr netip.Addr) Location {
	if m == nil {
		return Location{}
	}
	d := m.data.Load()
	if d == nil {
		return Location{}
	}
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		k := key4(addr.As4())
		i := d.v4.find(k)
		v := d.v4.segs[i].val
		if v == noValue {
			return Location{Prefix: prefixOf(addr, d.v4.bits(i, k, 0))}
		}
		return d.locs[v>>8].location(prefixOf(addr, int(v&0xff)))
	case addr.Is6():
		k := key6(addr.As16())
		i := d.v6.find(k)
		v := d.v6.segs[i].val
		if v == noValue {
			return Location{Prefix: prefixOf(addr, d.v6.bits(i, k, 0))}
		}
		return d.locs[v>>8].location(prefixOf(addr, int(v&0xff)))
	}
	return Location{}
}

// Networks returns the number of networks with data read from the file.
func (m *MaxMind) Networks() int { return m.networks }

// Close drops the tables; Locate then knows nothing. The file itself was
// closed when it was loaded. Close is safe to call concurrently with Locate
// and more than once.
func (m *MaxMind) Close() error {
	m.data.Store(nil)
	return nil
}
