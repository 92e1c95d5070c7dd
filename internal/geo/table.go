package geo

import (
	"errors"
	"fmt"
	"net/netip"
)

// Entry is one row of a CIDR table (from the config file).
type Entry struct {
	Prefix    netip.Prefix
	Region    string
	Country   string // ISO 3166-1 alpha-2; lower case is accepted
	Continent string // AF AN AS EU NA OC SA; lower case is accepted
	Lat, Lon  *float64
}

// Table is an operator's CIDR table: the longest matching prefix wins.
// IPv4 and IPv6 prefixes live in separate tables; an IPv4-mapped IPv6
// address (::ffff:192.0.2.1) is looked up as IPv4, and an IPv6 prefix,
// even ::/0, never matches an IPv4 client. A Table is immutable and safe
// for concurrent use.
type Table struct {
	v4   table4
	v6   table6
	locs []Location // per entry, Prefix set to the entry's prefix
}

// EntryError is what is wrong with one entry given to NewTable.
type EntryError struct {
	Index  int // in the entries, from 0
	Prefix netip.Prefix
	Err    error
}

func (e *EntryError) Error() string {
	if e.Prefix.IsValid() {
		return fmt.Sprintf("geo: entry %d (%s): %v", e.Index, e.Prefix, e.Err)
	}
	return fmt.Sprintf("geo: entry %d: %v", e.Index, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// NewTable validates entries and builds the lookup table. The error, if
// any, joins an *EntryError for each bad entry. An IPv4-mapped IPv6 prefix
// (::ffff:10.0.0.0/104) is taken as the IPv4 prefix it maps.
func NewTable(entries []Entry) (*Table, error) {
	t := &Table{locs: make([]Location, 0, len(entries))}
	var spans4, spans6 []span
	seen := make(map[netip.Prefix]int, len(entries))
	var errs []error
	for i, e := range entries {
		loc, err := entryLocation(e)
		if err != nil {
			errs = append(errs, &EntryError{i, e.Prefix, err})
			continue
		}
		if j, dup := seen[loc.Prefix]; dup {
			errs = append(errs, &EntryError{i, e.Prefix, fmt.Errorf("same prefix as entry %d", j)})
			continue
		}
		seen[loc.Prefix] = i
		first, last := prefixRange(loc.Prefix)
		sp := span{first, last, uint32(len(t.locs))}
		if loc.Prefix.Addr().Is4() {
			spans4 = append(spans4, sp)
		} else {
			spans6 = append(spans6, sp)
		}
		t.locs = append(t.locs, loc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t.v4 = newTable4(flatten[seg4](spans4, maxKey4))
	t.v6 = newTable6(flatten[seg6](spans6, maxKey6))
	return t, nil
}

// entryLocation validates one entry and returns its Location.
func entryLocation(e Entry) (Location, error) {
	p := e.Prefix
	if !p.IsValid() {
		return Location{}, errors.New("no valid prefix")
	}
	if p.Addr().Zone() != "" {
		return Location{}, errors.New("prefix has a zone")
	}
	if p != p.Masked() {
		return Location{}, fmt.Errorf("host bits are set: the network is %s", p.Masked())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	loc := Location{Known: true, Region: e.Region, Prefix: p}
	var err error
	if e.Country != "" {
		if loc.Country, err = normCountry(e.Country); err != nil {
			return Location{}, err
		}
	}
	if e.Continent != "" {
		if loc.Continent, err = normContinent(e.Continent); err != nil {
			return Location{}, err
		}
	}
	switch {
	case (e.Lat == nil) != (e.Lon == nil):
		return Location{}, errors.New("give both latitude and longitude, or neither")
	case e.Lat != nil:
		if err := checkCoords(*e.Lat, *e.Lon); err != nil {
			return Location{}, err
		}
		loc.Lat, loc.Lon, loc.HasCoords = *e.Lat, *e.Lon, true
	}
	if loc.Region == "" && loc.Country == "" && loc.Continent == "" && !loc.HasCoords {
		return Location{}, errors.New("no location: give a region, country, continent or coordinates")
	}
	return loc, nil
}

// Len returns the number of entries in the table.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.locs)
}

// Locate returns the location of the longest prefix matching addr. Its
// Prefix is the matched entry's, narrowed around addr to exclude more
// specific entries nested in it. With no match, Known is false and Prefix
// is the largest network around addr that no entry touches. A nil Table
// knows nothing.
func (t *Table) Locate(addr netip.Addr) Location {
	if t == nil || len(t.v4.segs) == 0 { // nil, or not made by NewTable
		return Location{}
	}
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		k := key4(addr.As4())
		i := t.v4.find(k)
		v := t.v4.segs[i].val
		if v == noValue {
			return Location{Prefix: prefixOf(addr, t.v4.bits(i, k, 0))}
		}
		loc := t.locs[v]
		loc.Prefix = prefixOf(addr, t.v4.bits(i, k, loc.Prefix.Bits()))
		return loc
	case addr.Is6():
		k := key6(addr.As16())
		i := t.v6.find(k)
		v := t.v6.segs[i].val
		if v == noValue {
			return Location{Prefix: prefixOf(addr, t.v6.bits(i, k, 0))}
		}
		loc := t.locs[v]
		loc.Prefix = prefixOf(addr, t.v6.bits(i, k, loc.Prefix.Bits()))
		return loc
	}
	return Location{}
}

// prefixOf returns addr's network of the given length, without a zone.
func prefixOf(addr netip.Addr, bits int) netip.Prefix {
	p, _ := addr.Prefix(bits)
	return p
}
