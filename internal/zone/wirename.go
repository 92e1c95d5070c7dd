package zone

// Helpers for uncompressed wire-format names: a sequence of length-prefixed
// labels ending with the zero-length root label.

// maxLabels is the most labels a 255-octet name can have.
const maxLabels = 128

// labelOffsets writes the offset of each label of name into offs (leftmost
// first, the root label last) and returns how many it wrote, or -1 if name
// is not a well-formed uncompressed wire name.
func labelOffsets(name []byte, offs *[maxLabels]uint8) int {
	n := 0
	for i := 0; i < len(name); {
		if n == maxLabels || i > 255 {
			return -1
		}
		offs[n] = uint8(i)
		n++
		l := int(name[i])
		if l == 0 {
			if i != len(name)-1 {
				return -1
			}
			return n
		}
		if l > 63 {
			return -1
		}
		i += l + 1
	}
	return -1
}

// LowerName copies the wire name src into dst with ASCII upper case folded
// and returns the filled part of dst. Length octets are at most 63 and so
// never fall in 'A'..'Z'.
func LowerName(dst *[256]byte, src []byte) []byte {
	n := copy(dst[:], src)
	b := dst[:n]
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return b
}

// EqualNames reports whether two uncompressed wire names are equal,
// ignoring ASCII case.
func EqualNames(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x != y {
			if 'A' <= x && x <= 'Z' {
				x += 'a' - 'A'
			}
			if 'A' <= y && y <= 'Z' {
				y += 'a' - 'A'
			}
			if x != y {
				return false
			}
		}
	}
	return true
}

// isLowerWire reports whether name holds no ASCII upper case.
func isLowerWire(name []byte) bool {
	for _, c := range name {
		if c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// WireNameLen returns the length of the uncompressed wire name at the start
// of b, or -1 if there is none.
func WireNameLen(b []byte) int {
	for i := 0; i < len(b) && i < 256; {
		l := int(b[i])
		if l == 0 {
			return i + 1
		}
		if l > 63 {
			return -1
		}
		i += l + 1
	}
	return -1
}
