package geo

import "slices"

// span is an address range (a prefix) carrying a value.
type span struct {
	first, last u128
	val         uint32
}

// flatten turns spans that are each either nested in or disjoint from one
// another (as prefixes always are) into a partition of [0, maxKey] where
// each address carries the value of the innermost span containing it, so
// that a longest-prefix match becomes a lookup of one segment. spans is
// sorted in place.
func flatten[S segment[S]](spans []span, maxKey u128) []S {
	starts, vals := partition(spans, maxKey)
	b := newSegBuilder[S](maxKey, len(starts))
	for i, v := range vals {
		if v == noValue {
			continue
		}
		last := maxKey
		if i+1 < len(starts) {
			last = starts[i+1].subOne()
		}
		if err := b.add(starts[i], last, v); err != nil {
			panic(err) // partition's segments are in order
		}
	}
	return b.finish()
}

// partition returns the segments of flatten as parallel slices: segment i
// covers [starts[i], starts[i+1]) and carries vals[i]; starts[0] is 0.
func partition(spans []span, maxKey u128) (starts []u128, vals []uint32) {
	if !slices.IsSortedFunc(spans, compareSpans) {
		slices.SortFunc(spans, compareSpans)
	}
	starts = make([]u128, 1, 2*len(spans)+1)
	vals = make([]uint32, 1, 2*len(spans)+1)
	vals[0] = noValue
	emit := func(s u128, v uint32) {
		n := len(starts)
		if starts[n-1] == s { // the previous segment is empty: replace it
			if n >= 2 && vals[n-2] == v {
				starts, vals = starts[:n-1], vals[:n-1]
			} else {
				vals[n-1] = v
			}
			return
		}
		if vals[n-1] != v {
			starts = append(starts, s)
			vals = append(vals, v)
		}
	}
	var open []span // the spans containing the current position, outermost first
	closeWhile := func(done func(span) bool) {
		for len(open) > 0 && done(open[len(open)-1]) {
			top := open[len(open)-1]
			open = open[:len(open)-1]
			if top.last == maxKey {
				continue // so do all the spans still open
			}
			v := noValue
			if len(open) > 0 {
				v = open[len(open)-1].val
			}
			emit(top.last.addOne(), v)
		}
	}
	for _, sp := range spans {
		closeWhile(func(top span) bool { return top.last.less(sp.first) })
		emit(sp.first, sp.val)
		open = append(open, sp)
	}
	closeWhile(func(span) bool { return true })
	return starts, vals
}

// compareSpans orders spans by first address, the outer of two nested
// spans with the same first address first.
func compareSpans(a, b span) int {
	switch {
	case a.first.less(b.first):
		return -1
	case b.first.less(a.first):
		return 1
	case b.last.less(a.last):
		return -1
	case a.last.less(b.last):
		return 1
	}
	return 0
}
