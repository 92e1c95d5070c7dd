package zone

import "sync"

// Slots. The process gives every zone name it builds a zone for a small
// integer, its slot: the same for every Zone of that name, in every
// snapshot, so that a table kept by zone (the DNS server's counts for
// metrics) finds a zone's entry by indexing rather than by looking its
// name up on every query. Slots are never given back: the zone names a
// process serves are few, and a removed zone that comes back finds its
// entries again.
var slots = struct {
	mu    sync.Mutex
	by    map[string]int
	names []string // by slot
}{by: map[string]int{}}

// slotOf returns the slot of the zone named name, giving it the next one
// the first time.
func slotOf(name string) int {
	slots.mu.Lock()
	defer slots.mu.Unlock()
	s, ok := slots.by[name]
	if !ok {
		s = len(slots.names)
		slots.by[name] = s
		slots.names = append(slots.names, name)
	}
	return s
}

// SlotName returns the name of the zones with the slot s ("" if no zone
// has it).
func SlotName(s int) string {
	slots.mu.Lock()
	defer slots.mu.Unlock()
	if s < 0 || s >= len(slots.names) {
		return ""
	}
	return slots.names[s]
}

// Slot returns the zone's slot: a small integer, from 0, that every Zone
// with its name has and no Zone with another name has.
func (z *Zone) Slot() int { return z.slot }
