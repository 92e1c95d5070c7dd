package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The example of RFC 4034 section 6.1, in canonical order.
var rfc4034Order = []Name{
	"example.", "a.example.", "yljkjljk.a.example.", `z.a.example.`, `zabc.a.example.`,
	"z.example.", `\001.z.example.`, `*.z.example.`, `\200.z.example.`,
}

func TestCanonicalOrder(t *testing.T) {
	for i := range rfc4034Order {
		for j := range rfc4034Order {
			a, b := rfc4034Order[i], rfc4034Order[j]
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := CompareCanonical(a, b); got != want {
				t.Errorf("CompareCanonical(%s, %s) = %d, want %d", a, b, got, want)
			}
			if got := cmpStrings(canonicalKey(a), canonicalKey(b)); got != want {
				t.Errorf("canonicalKey order of %s and %s = %d, want %d", a, b, got, want)
			}
		}
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestSortRRsets(t *testing.T) {
	z := Name("example.")
	var sets []*RRset
	for _, n := range rfc4034Order {
		sets = append(sets, &RRset{Name: n, Type: TypeA}, &RRset{Name: n, Type: TypeTXT})
	}
	sets = append(sets, &RRset{Name: z, Type: TypeNS}, &RRset{Name: z, Type: TypeSOA})
	rand.Shuffle(len(sets), func(i, j int) { sets[i], sets[j] = sets[j], sets[i] })
	SortRRsets(z, sets)
	if sets[0].Type != TypeSOA || sets[1].Type != TypeNS {
		t.Fatalf("apex SOA and NS not first: %v %v", sets[0], sets[1])
	}
	var names []Name
	for _, s := range sets[2:] {
		if len(names) == 0 || names[len(names)-1] != s.Name {
			names = append(names, s.Name)
		}
	}
	if !slices.Equal(names, rfc4034Order) {
		t.Errorf("order %v", names)
	}
}
