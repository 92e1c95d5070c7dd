package zonefile_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
)

// origin is the zone of every test zone.
var origin = model.MustName("example.com.")

// parseString parses src as a zone file named "test.zone" for origin.
func parseString(src string) ([]*model.RRset, error) {
	return zonefile.Parse(strings.NewReader(src), zonefile.ParseOptions{Origin: origin, File: "test.zone"})
}

// mustParseFile parses a file from testdata.
func mustParseFile(t testing.TB, name string) []*model.RRset {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sets, err := zonefile.Parse(f, zonefile.ParseOptions{Origin: origin, File: name})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return sets
}

// mustWrite exports sets and returns the zone file.
func mustWrite(t testing.TB, sets []*model.RRset) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := zonefile.Write(&b, origin, sets); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// sameSets reports whether a and b hold the same RRsets (names, types,
// TTLs and records, in the same record order), whatever the order of the
// sets, and describes the first difference.
func sameSets(a, b []*model.RRset) (bool, string) {
	idx := make(map[model.Key]*model.RRset, len(b))
	for _, s := range b {
		idx[s.Key()] = s
	}
	if len(a) != len(b) {
		return false, fmt.Sprintf("different numbers of RRsets: %d and %d", len(a), len(b))
	}
	for _, s := range a {
		o := idx[s.Key()]
		if o == nil {
			return false, "missing in second: " + s.String()
		}
		if s.TTL != o.TTL || len(s.Rdata) != len(o.Rdata) {
			return false, "differ:\n" + s.String() + "\nand\n" + o.String()
		}
		for i := range s.Rdata {
			if !bytes.Equal(s.Rdata[i], o.Rdata[i]) {
				return false, "differ:\n" + s.String() + "\nand\n" + o.String()
			}
		}
	}
	return true, ""
}

// sameSetsAnyOrder is sameSets ignoring the order of records in a set.
func sameSetsAnyOrder(a, b []*model.RRset) (bool, string) {
	idx := make(map[model.Key]*model.RRset, len(b))
	for _, s := range b {
		idx[s.Key()] = s
	}
	if len(a) != len(b) {
		return false, fmt.Sprintf("different numbers of RRsets: %d and %d", len(a), len(b))
	}
	for _, s := range a {
		if o := idx[s.Key()]; o == nil || !s.Equal(o) {
			return false, fmt.Sprintf("differ:\n%v\nand\n%v", s, o)
		}
	}
	return true, ""
}
