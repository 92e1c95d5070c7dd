package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// u128 is an address as a number: an IPv6 address, or an IPv4 address in
// the low 32 bits while tables are built.
type u128 struct{ hi, lo uint64 }

// The largest addresses, as numbers.
var (
	maxKey4 = u128{0, 1<<32 - 1}
	maxKey6 = u128{^uint64(0), ^uint64(0)}
)

func key6(a [16]byte) u128 {
	return u128{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

func key4(a [4]byte) uint32 { return binary.BigEndian.Uint32(a[:]) }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) lessEq(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo <= b.lo }

func (a u128) xor(b u128) u128 { return u128{a.hi ^ b.hi, a.lo ^ b.lo} }

func (a u128) or(b u128) u128 { return u128{a.hi | b.hi, a.lo | b.lo} }

func (a u128) addOne() u128 {
	lo, carry := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + carry, lo}
}

func (a u128) subOne() u128 {
	lo, borrow := bits.Sub64(a.lo, 1, 0)
	return u128{a.hi - borrow, lo}
}

// shl shifts a left by n < 128 bits.
func (a u128) shl(n uint) u128 {
	if n >= 64 {
		return u128{a.lo << (n - 64), 0}
	}
	if n == 0 {
		return a
	}
	return u128{a.hi<<n | a.lo>>(64-n), a.lo << n}
}

// leadingZeros counts the leading zero bits of a.
func (a u128) leadingZeros() int {
	if a.hi != 0 {
		return bits.LeadingZeros64(a.hi)
	}
	return 64 + bits.LeadingZeros64(a.lo)
}

// hostMask has the low n bits set, 0 <= n <= 128.
func hostMask(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n < 64:
		return u128{0, 1<<n - 1}
	case n < 128:
		return u128{1<<(n-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

// prefixRange returns the first and last address of a masked prefix as
// numbers.
func prefixRange(p netip.Prefix) (first, last u128) {
	a := p.Addr()
	if a.Is4() {
		first = u128{0, uint64(key4(a.As4()))}
		return first, first.or(hostMask(32 - p.Bits()))
	}
	first = key6(a.As16())
	return first, first.or(hostMask(128 - p.Bits()))
}
