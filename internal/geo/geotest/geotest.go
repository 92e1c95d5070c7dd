// Package geotest writes MaxMind DB files for tests: GeoIP2-City-shaped
// records into a database built with mmdbwriter, as the real files are.
package geotest

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// CityRecord builds a record shaped like a GeoIP2 City record, with the
// fields Stratus reads and a few it skips. Empty arguments leave fields
// out; coords nil leaves out the location.
func CityRecord(country, continent string, coords *[2]float64) mmdbtype.Map {
	r := mmdbtype.Map{
		"city": mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(2925533),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Somewhere"), "de": mmdbtype.String("Irgendwo")},
		},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("HE")}},
	}
	if country != "" {
		r["country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(2921044),
			"iso_code":   mmdbtype.String(country),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Country " + country)},
		}
		r["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String(country)}
	}
	if continent != "" {
		r["continent"] = mmdbtype.Map{
			"code":       mmdbtype.String(continent),
			"geoname_id": mmdbtype.Uint32(6255148),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Continent " + continent)},
		}
	}
	if coords != nil {
		r["location"] = mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16(20),
			"latitude":        mmdbtype.Float64(coords[0]),
			"longitude":       mmdbtype.Float64(coords[1]),
			"time_zone":       mmdbtype.String("Europe/Berlin"),
		}
	}
	return r
}

// Network is one network to write into a test database.
type Network struct {
	Prefix string
	Record mmdbtype.DataType
}

// WriteDB writes a MaxMind DB with the networks, inserted in order (a later
// network replaces the part of an earlier one it overlaps), and returns its
// path.
func WriteDB(t testing.TB, dbType string, ipVersion int, nets []Network) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		IPVersion:    ipVersion,
		RecordSize:   28,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if err := tree.Insert(PrefixNet(netip.MustParsePrefix(n.Prefix)), n.Record); err != nil {
			t.Fatalf("insert %s: %v", n.Prefix, err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	if err := WriteTree(tree, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteTree writes a database tree to a file at path.
func WriteTree(tree *mmdbwriter.Tree, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PrefixNet converts a prefix to the form mmdbwriter inserts.
func PrefixNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}
