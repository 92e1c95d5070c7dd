package geo

import (
	"fmt"
	"math/bits"
	"slices"
	"unsafe"
)

// An address family's space is kept as a partition: sorted segments, each
// running from its start to the next one's, with a value (noValue where no
// row covers it). Lookup is a binary search within the bucket of a
// first-level index over the leading address bits.

// noValue marks a segment that no table row covers.
const noValue = ^uint32(0)

// seg4 is a segment of the IPv4 space.
type seg4 struct{ start, val uint32 }

// seg6 is a segment of the IPv6 space.
type seg6 struct {
	start u128
	val   uint32
}

func (s seg4) key() u128                    { return u128{0, uint64(s.start)} }
func (s seg4) value() uint32                { return s.val }
func (seg4) with(start u128, v uint32) seg4 { return seg4{uint32(start.lo), v} }
func (s seg6) key() u128                    { return s.start }
func (s seg6) value() uint32                { return s.val }
func (seg6) with(start u128, v uint32) seg6 { return seg6{start, v} }

type segment[S any] interface {
	seg4 | seg6
	key() u128
	value() uint32
	with(start u128, v uint32) S
}

// segBuilder builds a partition from ranges given in address order.
type segBuilder[S segment[S]] struct {
	segs   []S
	next   u128 // the first address not yet covered
	maxKey u128
	full   bool // covered up to maxKey
}

func newSegBuilder[S segment[S]](maxKey u128, capacity int) *segBuilder[S] {
	return &segBuilder[S]{segs: make([]S, 0, capacity), maxKey: maxKey}
}

// add appends the range [first, last] with value v, and a noValue segment
// for any gap before it. Ranges must come in address order without
// overlapping. Adjacent segments with the same value are merged.
func (b *segBuilder[S]) add(first, last u128, v uint32) error {
	if b.full || first.less(b.next) {
		return fmt.Errorf("range %x-%x out of order or overlapping", first, last)
	}
	if b.next.less(first) {
		b.emit(b.next, noValue)
	}
	b.emit(first, v)
	if last == b.maxKey {
		b.full = true
	} else {
		b.next = last.addOne()
	}
	return nil
}

func (b *segBuilder[S]) emit(start u128, v uint32) {
	if n := len(b.segs); n > 0 && b.segs[n-1].value() == v {
		return
	}
	var s S
	b.segs = append(b.segs, s.with(start, v))
}

// finish covers the rest of the space and returns the segments, in an
// array of their size if appending left much room.
func (b *segBuilder[S]) finish() []S {
	if !b.full {
		b.emit(b.next, noValue)
	}
	return shrink(b.segs)
}

// shrink returns s in an array of its length if appending left much room.
func shrink[S ~[]E, E any](s S) S {
	if cap(s)-len(s) > len(s)/16 {
		return slices.Clone(s)
	}
	return s
}

// index describes a first-level index over segments: the segments from
// the second to the last all start in [base, last], a prefix of the
// space; index[i] is the segment holding base + i<<shift, with a final
// entry for the last segment. No index for a handful of segments.
func index[S segment[S]](segs []S, width int) (ix []uint32, base, last u128, shift uint) {
	n := len(segs)
	k := bits.Len(uint(n)) - 2 // about 2 to 4 segments a bucket
	if n <= 2 || k <= 0 {
		return nil, u128{}, u128{}, 0
	}
	lo, hi := segs[1].key(), segs[n-1].key()
	common := lo.xor(hi).leadingZeros() - (128 - width) // leading bits shared
	host := hostMask(width - common)
	base = u128{lo.hi &^ host.hi, lo.lo &^ host.lo}
	last = base.or(host)
	// At most 20 bits (a 4 MiB index); IPv6 buckets come from the high word.
	k = min(k, 20, width-common)
	if width == 128 {
		k = min(k, 64-common)
	}
	if k <= 0 {
		return nil, u128{}, u128{}, 0
	}
	shift = uint(width - common - k)
	ix = make([]uint32, 1<<k+1)
	i := 0
	for b := range 1 << k {
		first := base.or(u128{0, uint64(b)}.shl(shift))
		for i+1 < n && segs[i+1].key().lessEq(first) {
			i++
		}
		ix[b] = uint32(i)
	}
	ix[1<<k] = uint32(n - 1)
	return ix, base, last, shift
}

// table4 is a partition of the IPv4 space.
type table4 struct {
	segs       []seg4
	index      []uint32
	base, last uint32
	shift      uint
}

func newTable4(segs []seg4) table4 {
	ix, base, last, shift := index(segs, 32)
	return table4{segs: segs, index: ix, base: uint32(base.lo), last: uint32(last.lo), shift: shift}
}

// find returns the segment holding key.
func (t *table4) find(key uint32) int {
	lo, hi := 0, len(t.segs)-1
	if t.index != nil {
		switch {
		case key < t.base:
			return 0
		case key > t.last:
			return hi
		}
		b := (key - t.base) >> t.shift
		lo, hi = int(t.index[b]), int(t.index[b+1])
	}
	s := t.segs
	for lo < hi { // the answer is in [lo, hi]
		m := int(uint(lo+hi+1) >> 1)
		if s[m].start <= key {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}

// bits returns the length of the largest prefix that holds key, lies
// within segment i, and is at least minBits long.
func (t *table4) bits(i int, key uint32, minBits int) int {
	b := minBits
	if s := t.segs[i].start; s > 0 {
		b = max(b, bits.LeadingZeros32(key^(s-1))+1)
	}
	if i+1 < len(t.segs) {
		b = max(b, bits.LeadingZeros32(key^t.segs[i+1].start)+1)
	}
	return b
}

func (t *table4) bytes() int { return 8*len(t.segs) + 4*len(t.index) }

// table6 is a partition of the IPv6 space; its index uses the high word.
type table6 struct {
	segs       []seg6
	index      []uint32
	base, last u128
	shift      uint // of the high word
}

func newTable6(segs []seg6) table6 {
	ix, base, last, shift := index(segs, 128)
	return table6{segs: segs, index: ix, base: base, last: last, shift: shift - 64}
}

// find returns the segment holding key.
func (t *table6) find(key u128) int {
	lo, hi := 0, len(t.segs)-1
	if t.index != nil {
		switch {
		case key.less(t.base):
			return 0
		case t.last.less(key):
			return hi
		}
		b := (key.hi - t.base.hi) >> t.shift
		lo, hi = int(t.index[b]), int(t.index[b+1])
	}
	s := t.segs
	for lo < hi {
		m := int(uint(lo+hi+1) >> 1)
		if s[m].start.lessEq(key) {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}

// bits is table4.bits for IPv6.
func (t *table6) bits(i int, key u128, minBits int) int {
	b := minBits
	if s := t.segs[i].start; s != (u128{}) {
		b = max(b, key.xor(s.subOne()).leadingZeros()+1)
	}
	if i+1 < len(t.segs) {
		b = max(b, key.xor(t.segs[i+1].start).leadingZeros()+1)
	}
	return b
}

func (t *table6) bytes() int { return int(unsafe.Sizeof(seg6{}))*len(t.segs) + 4*len(t.index) }
