package dnsserver

import "testing"

// TestSipHash checks siphash24 against the reference vectors of the
// SipHash paper (Aumasson and Bernstein, "SipHash: a fast short-input
// PRF", appendix A and the reference implementation's vectors.h): key 00
// 01 .. 0f, message 00 01 .. (len-1).
func TestSipHash(t *testing.T) {
	var key [16]byte
	var msg [64]byte
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	k := newSipKey(key)
	for _, tc := range []struct {
		len  int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{1, 0x74f839c593dc67fd},
		{2, 0x0d6c8009d9a94f5a},
		{3, 0x85676696d7fb7e2d},
		{4, 0xcf2794e0277187b7},
		{5, 0x18765564cd99a68d},
		{6, 0xcbc9466e58fee3ce},
		{7, 0xab0200f58b01d137},
		{8, 0x93f5f5799a932462},
		{15, 0xa129ca6149be45e5}, // the paper's worked example
		{63, 0x958a324ceb064572},
	} {
		if got := siphash24(k, msg[:tc.len]); got != tc.want {
			t.Errorf("SipHash-2-4 of %d octets: %#016x, want %#016x", tc.len, got, tc.want)
		}
	}
}

func TestSipHashAllocations(t *testing.T) {
	var msg [32]byte
	k := sipKey{1, 2}
	if n := testing.AllocsPerRun(100, func() { siphash24(k, msg[:]) }); n > 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
