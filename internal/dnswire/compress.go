package dnswire

import "github.com/stratusdns/stratus/internal/zone"

// compressor remembers where names were written in the message being built
// so later names can point at them (RFC 1035 section 4.1.4). Each entry is
// a label start: its offset in the message and the uncompressed name from
// there to the root, as it was written.
type compressor struct {
	n       int
	entries [maxCompressionEntries]compEntry
}

type compEntry struct {
	off  uint16
	name []byte
}

// maxCompressionEntries bounds the table; names written once it is full
// are still written correctly, only less compactly.
const maxCompressionEntries = 128

func (c *compressor) reset() {
	for i := range c.n {
		c.entries[i].name = nil
	}
	c.n = 0
}

// truncate forgets the names recorded after the first n, which were
// taken out of the message again.
func (c *compressor) truncate(n int) {
	for i := n; i < c.n; i++ {
		c.entries[i].name = nil
	}
	c.n = n
}

func (c *compressor) add(off int, name []byte) {
	if c.n < maxCompressionEntries && off <= 0x3FFF {
		c.entries[c.n] = compEntry{off: uint16(off), name: name}
		c.n++
	}
}

// find returns the offset of a name equal to name (ignoring ASCII case).
func (c *compressor) find(name []byte) (int, bool) {
	for i := range c.n {
		if zone.EqualNames(c.entries[i].name, name) {
			return int(c.entries[i].off), true
		}
	}
	return 0, false
}
