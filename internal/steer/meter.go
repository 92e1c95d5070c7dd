package steer

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/stratusdns/stratus/internal/zone"
)

// Why an answer came from where it came (AnswerKey.Reason).
const (
	ReasonHealthy  = "healthy"  // from the service's first tier
	ReasonFallback = "fallback" // from a lower tier: the first has no healthy endpoint
	ReasonAllDown  = "all_down" // from the when_all_down policy: no healthy endpoint
)

// AnswerKey is what answers are counted by: the service, the pool
// answered from ("" for a static answer, SERVFAIL or no records) and
// the reason.
type AnswerKey struct {
	Service string
	Pool    string
	Reason  string
}

// Meter counts the answers of every service by AnswerKey. The query
// path counts without a lock, an allocation or a write another worker
// makes: each worker (a zone.Client) counts into a table of its own,
// by an index its compiled services looked up when they were compiled,
// and Answers sums the tables. The keys outlive compiled services: a
// service compiled again counts on where it left off.
type Meter struct {
	mu      sync.Mutex
	ids     map[AnswerKey]uint32
	keys    []AnswerKey
	tables  map[*meterTable]struct{}
	retired []uint64 // the counts of workers gone
}

// NewMeter returns a meter with nothing counted.
func NewMeter() *Meter {
	return &Meter{ids: map[AnswerKey]uint32{}, tables: map[*meterTable]struct{}{}}
}

// meterTable is one worker's counts. Only its worker writes them (and
// only through counts, atomically, so Answers reads them whole); local
// is the same slice, which the worker alone reads. A table that grows
// gets a new slice with the old counts.
type meterTable struct {
	m      *Meter
	local  []atomic.Uint64
	counts []atomic.Uint64 // guarded by m.mu
}

// id returns the index of k, adding it. Call with m.mu held.
func (m *Meter) id(k AnswerKey) uint32 {
	if i, ok := m.ids[k]; ok {
		return i
	}
	i := uint32(len(m.keys))
	m.ids[k] = i
	m.keys = append(m.keys, k)
	return i
}

// table returns the worker's table, made or grown to hold index id. It
// allocates only the first time and when the keys have grown: off the
// steady path.
func (m *Meter) table(c *zone.Client, id uint32) *meterTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, _ := c.Meter.(*meterTable)
	if t == nil || t.m != m {
		t = &meterTable{m: m}
		m.tables[t] = struct{}{}
		c.Meter = t
		// When the worker is gone (a TCP connection closed), its counts
		// go to the retired sums.
		runtime.AddCleanup(c, m.retire, t)
	}
	if int(id) >= len(t.local) {
		grown := make([]atomic.Uint64, max(len(m.keys), int(id)+1))
		for i := range t.local {
			grown[i].Store(t.local[i].Load())
		}
		t.local, t.counts = grown, grown
	}
	return t
}

// retire adds a table's counts to the retired sums and forgets it.
func (m *Meter) retire(t *meterTable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tables, t)
	m.addTo(t.counts)
}

// addTo adds counts to the retired sums. Call with m.mu held.
func (m *Meter) addTo(counts []atomic.Uint64) {
	if len(m.retired) < len(counts) {
		m.retired = append(m.retired, make([]uint64, len(counts)-len(m.retired))...)
	}
	for i := range counts {
		m.retired[i] += counts[i].Load()
	}
}

// AnswerCount is the number of answers counted for a key.
type AnswerCount struct {
	AnswerKey
	N uint64
}

// Answers returns the answers counted so far for every key that has
// any, ordered by service, pool and reason.
func (m *Meter) Answers() []AnswerCount {
	m.mu.Lock()
	sums := make([]uint64, len(m.keys))
	copy(sums, m.retired)
	for t := range m.tables {
		for i := range t.counts {
			sums[i] += t.counts[i].Load()
		}
	}
	keys := m.keys
	m.mu.Unlock()
	var out []AnswerCount
	for i, n := range sums {
		if n > 0 {
			out = append(out, AnswerCount{AnswerKey: keys[i], N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].AnswerKey, out[j].AnswerKey
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Pool != b.Pool {
			return a.Pool < b.Pool
		}
		return a.Reason < b.Reason
	})
	return out
}

// answerIDs are a compiled service's indexes into its meter's tables:
// per pool, healthy, fallback and all_down, and last all_down from no
// pool.
type answerIDs []uint32

const reasonsPerPool = 3

// meterIDs looks up the service's keys in its meter.
func (s *CompiledService) meterIDs(m *Meter) {
	if m == nil {
		return
	}
	svc := s.Spec.Name.String()
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make(answerIDs, 0, reasonsPerPool*len(s.Pools)+1)
	for i := range s.Pools {
		p := s.Pools[i].Spec.Name
		ids = append(ids, m.id(AnswerKey{svc, p, ReasonHealthy}), m.id(AnswerKey{svc, p, ReasonFallback}), m.id(AnswerKey{svc, p, ReasonAllDown}))
	}
	s.meter, s.ids = m, append(ids, m.id(AnswerKey{Service: svc, Reason: ReasonAllDown}))
}

// answerID returns the index an outcome is counted at.
func (s *CompiledService) answerID(o *outcome) uint32 {
	if len(o.sel) == 0 || len(s.Endpoints) == 0 || &o.eps[0] != &s.Endpoints[0] {
		return s.ids[len(s.ids)-1] // SERVFAIL, no records, or the static answer
	}
	p := s.Endpoints[o.sel[0]].Pool
	switch {
	case o.reason != "":
		return s.ids[p*reasonsPerPool+2]
	case s.priority(p) != s.firstPriority:
		return s.ids[p*reasonsPerPool+1]
	}
	return s.ids[p*reasonsPerPool]
}

// count counts one answer at index id into the worker's table.
func (s *CompiledService) count(c *zone.Client, id uint32) {
	m := s.meter
	if m == nil {
		return
	}
	t, _ := c.Meter.(*meterTable)
	if t == nil || t.m != m || int(id) >= len(t.local) {
		t = m.table(c, id)
	}
	t.local[id].Add(1)
}
