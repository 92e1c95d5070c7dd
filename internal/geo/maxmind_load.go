package geo

import (
	"errors"
	"fmt"

	"github.com/oschwald/maxminddb-golang/v2"
)

// mmRecord holds the only fields read from a record; the decoder skips the
// rest (names in every language, subdivisions, postal codes, ...).
type mmRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// maxLocations bounds the distinct locations: a segment value keeps the
// index in 24 bits.
const maxLocations = 1<<24 - 1

// OpenMaxMind loads a MaxMind DB file and flattens it into memory. Every
// network is read once (Reader.Networks); each distinct data record is
// decoded once, for country.iso_code, continent.code and
// location.latitude/longitude only. Networks whose record has none of
// these are left out. A database in which no network has any (an ASN
// database, say) is an error.
//
// IPv4 networks of an IPv6 database (MaxMind keeps them at ::/96) become
// IPv4 networks. Of the aliases of the IPv4 networks that MaxMind adds in
// IPv6 databases only ::ffff:0:0/96 is followed, by Locate unmapping the
// address: a 6to4 (2002::/16) or Teredo (2001::/32) address is looked up
// as the IPv6 address it is.
func OpenMaxMind(path string) (*MaxMind, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	defer db.Close()
	m, err := loadMaxMind(db)
	if err != nil {
		return nil, fmt.Errorf("geo: %s: %w", path, err)
	}
	return m, nil
}

// mmLoader holds the state of one load.
type mmLoader struct {
	byOffset map[uintptr]uint32 // data record -> location index or noValue
	byLoc    map[mmLoc]uint32
	locs     []mmLoc
	lastOff  uintptr // the last record looked up, often the next one's too
	lastLoc  uint32
}

func loadMaxMind(db *maxminddb.Reader) (*MaxMind, error) {
	l := &mmLoader{
		byOffset: make(map[uintptr]uint32),
		byLoc:    make(map[mmLoc]uint32),
		lastOff:  ^uintptr(0),
	}
	b4 := newSegBuilder[seg4](maxKey4, 0)
	b6 := newSegBuilder[seg6](maxKey6, 0)
	networks := 0
	for res := range db.Networks() {
		if err := res.Err(); err != nil {
			return nil, err
		}
		networks++
		p := res.Prefix()
		li, err := l.location(res)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", p, err)
		}
		if li == noValue {
			continue
		}
		if !p.IsValid() {
			return nil, fmt.Errorf("network %s: invalid prefix", p)
		}
		first, last := prefixRange(p)
		val := li<<8 | uint32(p.Bits())
		if p.Addr().Is4() {
			err = b4.add(first, last, val)
		} else {
			err = b6.add(first, last, val)
			if err == nil && p.Bits() <= 96 && first == (u128{}) {
				// A network above MaxMind's IPv4 subtree (::/96) holds
				// all of IPv4 as well.
				err = b4.add(u128{}, maxKey4, li<<8)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", p, err)
		}
	}
	if len(l.locs) == 0 {
		return nil, errors.New("no network has a country, continent or location: not a City or Country database?")
	}
	d := &mmData{
		v4:   newTable4(b4.finish()),
		v6:   newTable6(b6.finish()),
		locs: shrink(l.locs),
	}
	m := &MaxMind{networks: networks}
	m.data.Store(d)
	return m, nil
}

// location returns the index of the location of a network's record,
// decoding each record once, or noValue if the record has no location.
func (l *mmLoader) location(res maxminddb.Result) (uint32, error) {
	off := res.Offset()
	if off == l.lastOff {
		return l.lastLoc, nil
	}
	li, ok := l.byOffset[off]
	if !ok {
		var err error
		if li, err = l.decode(res); err != nil {
			return 0, err
		}
		l.byOffset[off] = li
	}
	l.lastOff, l.lastLoc = off, li
	return li, nil
}

func (l *mmLoader) decode(res maxminddb.Result) (uint32, error) {
	var r mmRecord
	if err := res.Decode(&r); err != nil {
		return 0, err
	}
	var loc mmLoc
	if c := r.Country.ISOCode; c != "" {
		c, err := normCountry(c)
		if err != nil {
			return 0, err
		}
		loc.country = countryIndex(c)
	}
	if c := r.Continent.Code; c != "" {
		c, err := normContinent(c)
		if err != nil {
			return 0, err
		}
		loc.continent = continentIndex(c)
	}
	if lat, lon := r.Location.Latitude, r.Location.Longitude; lat != nil && lon != nil {
		if err := checkCoords(*lat, *lon); err != nil {
			return 0, err
		}
		loc.lat, loc.lon, loc.hasCoords = *lat, *lon, true
	}
	if loc == (mmLoc{}) {
		return noValue, nil
	}
	li, ok := l.byLoc[loc]
	if !ok {
		if len(l.locs) >= maxLocations {
			return 0, fmt.Errorf("more than %d distinct locations", maxLocations)
		}
		li = uint32(len(l.locs))
		l.locs = append(l.locs, loc)
		l.byLoc[loc] = li
	}
	return li, nil
}
