package dnsserver

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// TapRecord is one answered query as the tap copies it for the query log
// and dnstap. Its byte slices point into a buffer the tap reuses: a
// TapSink must not keep them after Tap returns.
type TapRecord struct {
	// Received is when the query was read (for UDP, when its batch was
	// read); Answered when its response was built.
	Received, Answered time.Time
	Client             netip.AddrPort
	TCP                bool
	// Log and Dnstap say which outputs want the record: Log for a query
	// the query log sampled, Dnstap for every query when dnstap is on.
	Log, Dnstap bool
	// Qname is the question's name in wire format (empty when the query
	// had no question); Qtype and Qclass its type and class.
	Qname         []byte
	Qtype, Qclass uint16
	// Rcode is the response's rcode, the header's four bits with the
	// OPT record's upper ones (BADVERS, BADCOOKIE); TC and AA are read
	// from its header.
	Rcode  uint16
	TC, AA bool
	// Zone is the zone that answered (presentation format), "" when none.
	Zone string
	// ECS is set when the query carried an EDNS Client Subnet option:
	// its network and the scope the answer was given for.
	ECS       bool
	ECSAddr   netip.Addr
	ECSSource uint8
	ECSScope  uint8
	// Size is the response's length in octets.
	Size int
	// Query and Response are the messages themselves, copied only when
	// Dnstap is set.
	Query, Response []byte
}

// TapSink receives the tapped queries in batches, on one goroutine of
// the server's (never a reader's): it may take its time, and while it
// does the readers' buffers fill up and further queries are dropped and
// counted, never waited for.
type TapSink interface {
	Tap(batch []TapRecord)
}

// TapConfig turns the tap on: with a Sink and Log or Dnstap set, each
// reader copies what the outputs need into buffers of its own.
type TapConfig struct {
	Sink TapSink
	// Log taps a sample of the queries for the query log: SampleRate of
	// them (0..1; 0 means 1), chosen deterministically per reader (each
	// reader takes floor(n*SampleRate) of its first n queries).
	Log        bool
	SampleRate float64
	// Dnstap taps every query, with its query and response messages.
	Dnstap bool
	// Records and Bytes size one buffer (defaults 256 and 256 KiB);
	// Buffers is the number each reader has (default 4).
	Records, Bytes, Buffers int
}

func (c *TapConfig) on() bool { return c.Sink != nil && (c.Log || c.Dnstap) }

// tapRateOne is a sample rate of 1 in the fixed point the readers
// count in: millionths, so that a rate given in decimals (up to six
// places) samples exactly floor(n*rate) of n queries.
const tapRateOne = 1_000_000

// Tap buffer defaults.
const (
	defaultTapRecords = 256
	defaultTapBytes   = 256 << 10
	defaultTapBuffers = 4
)

// tap hands the readers' records to the sink. Each reader (a UDP socket's
// goroutine, or a TCP connection while it lives) owns a few buffers; it
// fills one as it answers and hands it over once per batch of datagrams
// (for TCP, when the connection has read all the queries it was sent),
// with a send that never waits: when the writer is behind, the records
// are dropped and counted by the reader.
type tap struct {
	cfg  TapConfig
	rate uint64 // the sample rate in 1/tapRateOne
	full chan *tapBuffer
	done chan struct{}
	// started is set when Start starts the writer.
	started bool

	mu      sync.Mutex
	readers []*tapReader            // the UDP readers, for the drop counts
	tcp     map[*tapReader]struct{} // the readers of live TCP connections
	// What the readers of TCP connections that ended dropped.
	tcpLogDropped, tcpDnstapDropped uint64
}

func newTap(c TapConfig, udpReaders int) *tap {
	if !c.on() {
		return nil
	}
	if c.Records <= 0 {
		c.Records = defaultTapRecords
	}
	if c.Bytes <= 0 {
		c.Bytes = defaultTapBytes
	}
	if c.Buffers <= 0 {
		c.Buffers = defaultTapBuffers
	}
	rate := uint64(tapRateOne)
	if c.SampleRate > 0 && c.SampleRate < 1 {
		rate = uint64(math.Round(c.SampleRate * tapRateOne))
	}
	return &tap{cfg: c, rate: rate, full: make(chan *tapBuffer, c.Buffers*(udpReaders+4)+tapTCPQueue),
		done: make(chan struct{}), tcp: map[*tapReader]struct{}{}}
}

// tapReader is one reader's side of the tap.
type tapReader struct {
	t    *tap
	cur  *tapBuffer      // being filled; nil while every buffer is handed over
	free chan *tapBuffer // buffers the writer gave back
	acc  uint64          // the sampling accumulator
	peer netip.AddrPort  // the client of a TCP connection

	// last is when the reader last handed a buffer over; armed says a
	// read deadline is set to hand over records left when queries stop.
	last  time.Time
	armed bool
	// For a TCP connection: since is when the first record of cur was
	// added, and maxRecs and maxBytes bound the buffers, which start
	// small and grow as the connection needs.
	tcp               bool
	since             time.Time
	maxRecs, maxBytes int

	// The records this reader dropped, written by the reader alone.
	logDropped, dnstapDropped atomic.Uint64
}

type tapBuffer struct {
	owner *tapReader
	recs  []TapRecord
	bytes []byte
}

func (t *tap) newReader() *tapReader {
	r := &tapReader{t: t, free: make(chan *tapBuffer, t.cfg.Buffers), maxRecs: t.cfg.Records, maxBytes: t.cfg.Bytes}
	for range t.cfg.Buffers {
		r.free <- &tapBuffer{owner: r, recs: make([]TapRecord, 0, t.cfg.Records), bytes: make([]byte, 0, t.cfg.Bytes)}
	}
	r.cur = <-r.free
	t.mu.Lock()
	t.readers = append(t.readers, r)
	t.mu.Unlock()
	return r
}

// tapReader returns the tap of a UDP reader; nil when there is no tap.
func (s *Server) tapReader() *tapReader {
	if s.tap == nil {
		return nil
	}
	return s.tap.newReader()
}

// A TCP connection's tap has tapTCPBuffers buffers, made at its first
// tapped query with room for tapTCPRecords records and tapTCPBytes
// octets and grown (up to the configured size) only as it needs: most
// connections carry a query or a few, and a client that opens many at
// once must not make the tap hold a reader's megabyte for each.
// tapTCPQueue is the room the connections share in the writer's queue.
const (
	tapTCPBuffers = 2
	tapTCPRecords = 8
	tapTCPBytes   = 2 << 10
	tapTCPQueue   = 64
)

// newTCPReader returns the tap of a TCP connection, with its buffers
// still unallocated; tapDone ends it.
func (t *tap) newTCPReader() *tapReader {
	r := &tapReader{t: t, free: make(chan *tapBuffer, tapTCPBuffers), tcp: true, maxRecs: t.cfg.Records, maxBytes: t.cfg.Bytes}
	for range tapTCPBuffers {
		r.free <- &tapBuffer{owner: r}
	}
	r.cur = <-r.free
	t.mu.Lock()
	t.tcp[r] = struct{}{}
	t.mu.Unlock()
	return r
}

// tapTCP returns a tap for a TCP connection; tapDone ends it.
func (s *Server) tapTCP(c net.Conn) *tapReader {
	t := s.tap
	if t == nil {
		return nil
	}
	r := t.newTCPReader()
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		r.peer = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return r
}

// now returns the time a query is read at, when there is a tap.
func (r *tapReader) now() time.Time {
	if r == nil {
		return time.Time{}
	}
	return time.Now()
}

// addTCP is add for a query of the TCP connection r serves.
func (r *tapReader) addTCP(h *handler, req, resp []byte, received time.Time) {
	if r != nil {
		r.add(h, req, resp, r.peer, true, received)
	}
}

// tapDone ends the tap of a TCP connection: its records are handed
// over (at shutdown, waiting for room; otherwise dropped and counted
// when the writer's queue is full) and its buffers let go.
func (s *Server) tapDone(r *tapReader) {
	if r == nil {
		return
	}
	t := r.t
	if b := r.cur; b != nil && len(b.recs) > 0 {
		select {
		case t.full <- b:
		default:
			if s.closing.Load() {
				t.full <- b // the writer runs until every reader has ended
			} else {
				r.dropAll(b)
			}
		}
	}
	r.cur = nil
	t.mu.Lock()
	delete(t.tcp, r)
	t.tcpLogDropped += r.logDropped.Load()
	t.tcpDnstapDropped += r.dnstapDropped.Load()
	t.mu.Unlock()
}

// add copies what the outputs want of one answered query. It never
// waits and never allocates: without room the query is dropped and
// counted.
func (r *tapReader) add(h *handler, req, resp []byte, from netip.AddrPort, tcp bool, received time.Time) {
	if r == nil || len(resp) < 4 {
		return
	}
	t := r.t
	log := false
	if t.cfg.Log {
		r.acc += t.rate
		if r.acc >= tapRateOne {
			r.acc -= tapRateOne
			log = true
		}
	}
	dt := t.cfg.Dnstap
	if !log && !dt {
		return
	}
	q := &h.q
	qname := q.Qname
	if !q.HasQuestion {
		qname = nil
	}
	need := len(qname)
	if dt {
		need += len(req) + len(resp)
	}
	b := r.room(need)
	if b == nil {
		r.drop(log, dt, 1)
		return
	}
	if len(b.recs) == 0 {
		r.since = tapNow()
	}
	b.recs = append(b.recs, TapRecord{})
	rec := &b.recs[len(b.recs)-1]
	*rec = TapRecord{
		Received: received, Answered: time.Now(), Client: from, TCP: tcp,
		Log: log, Dnstap: dt,
		Qtype: q.Qtype, Qclass: q.Qclass,
		Rcode: uint16(h.rcode(resp)), TC: resp[2]&0x02 != 0, AA: resp[2]&0x04 != 0,
		ECS: q.ECS, ECSAddr: q.ECSAddr, ECSSource: q.ECSSource, ECSScope: q.ECSScope,
		Size: len(resp),
	}
	if !q.HasQuestion {
		rec.Qtype, rec.Qclass = 0, 0
	}
	if z := h.a.Zone; z != nil {
		rec.Zone = z.Name()
	}
	rec.Qname = b.copy(qname)
	if dt {
		rec.Query, rec.Response = b.copy(req), b.copy(resp)
	}
	if tcp && tapNow().Sub(r.since) >= tapHandOffEvery {
		r.handOff() // a busy connection's records wait no longer
	}
}

// room returns the buffer to add a record of need octets to, handing the
// current one over when it is full; nil when there is none with room.
func (r *tapReader) room(need int) *tapBuffer {
	if need > r.maxBytes {
		return nil
	}
	if !r.fits(need) {
		r.handOff()
		if !r.fits(need) {
			return nil
		}
	}
	return r.cur
}

func (r *tapReader) fits(need int) bool {
	b := r.cur
	if b == nil || len(b.recs) >= r.maxRecs || len(b.bytes)+need > r.maxBytes {
		return false
	}
	if b.recs == nil { // a TCP connection's buffer, first used
		b.recs = make([]TapRecord, 0, min(tapTCPRecords, r.maxRecs))
		b.bytes = make([]byte, 0, min(max(tapTCPBytes, need), r.maxBytes))
	}
	return true
}

// copy appends p to the buffer's bytes and returns the copy.
func (b *tapBuffer) copy(p []byte) []byte {
	n := len(b.bytes)
	b.bytes = append(b.bytes, p...)
	return b.bytes[n:len(b.bytes):len(b.bytes)]
}

// Hand-over pacing: a UDP reader hands its buffer over when it is half
// full or tapHandOffEvery after the last hand-over, not after every
// batch; when the queries stop, a read deadline tapIdleFlush away hands
// over what is left. A hand-over wakes the writer, and on a server of
// one or two CPUs each wake-up costs context switches that a sampled
// query log does not otherwise pay for: at 1% and 10 ms they cost a
// sixth of the queries a CPU-second answers (bench/README.md), so the
// pace is a tenth of a second. dnstap, and a query log of every query,
// fill their buffers well before that under load.
const (
	tapHandOffEvery = 100 * time.Millisecond
	tapIdleFlush    = 200 * time.Millisecond
)

// batchDone is called after each batch of a UDP reader, with the time
// the batch was read.
func (r *tapReader) batchDone(now time.Time) {
	if r == nil || r.cur == nil || len(r.cur.recs) == 0 {
		return
	}
	if len(r.cur.recs) >= cap(r.cur.recs)/2 || len(r.cur.bytes) >= cap(r.cur.bytes)/2 || now.Sub(r.last) >= tapHandOffEvery {
		r.handOff()
		r.last = now
	}
}

// armIdle sets a read deadline on a UDP socket whose reader holds records
// not handed over, so that they are when no more queries come.
func (r *tapReader) armIdle(c *net.UDPConn) {
	if r == nil || r.armed || r.cur == nil || len(r.cur.recs) == 0 {
		return
	}
	c.SetReadDeadline(time.Now().Add(tapIdleFlush))
	r.armed = true
}

// idle reports whether err is the deadline armIdle set, having handed
// the records over and cleared it.
func (r *tapReader) idle(c *net.UDPConn, err error) bool {
	if r == nil || !r.armed || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	r.handOff()
	r.last = time.Now()
	c.SetReadDeadline(time.Time{})
	r.armed = false
	return true
}

// handOff gives the records gathered so far to the writer, without
// waiting. While the writer holds every other buffer of the reader's,
// the reader goes on filling the one it has; when the writer's queue is
// full the records are dropped.
func (r *tapReader) handOff() {
	if r == nil {
		return
	}
	b := r.cur
	if b != nil && len(b.recs) == 0 {
		return
	}
	var next *tapBuffer
	select {
	case next = <-r.free:
	default:
		return // keep filling b
	}
	if b == nil {
		r.cur = next
		return
	}
	select {
	case r.t.full <- b:
		r.cur = next
	default:
		r.free <- next // never waits: it came from there
		r.dropAll(b)
	}
}

// dropAll counts the records of b as dropped and empties it.
func (r *tapReader) dropAll(b *tapBuffer) {
	for i := range b.recs {
		r.drop(b.recs[i].Log, b.recs[i].Dnstap, 1)
	}
	b.reset()
}

// tapNow is the clock a TCP connection's tap paces its hand-overs by.
var tapNow = time.Now

// tcpIdle is called when a TCP connection has answered every query it
// was sent and waits for more: it hands the records over when the first
// of them waited tapHandOffEvery, and otherwise returns when they must
// be, at the latest (zero when there are none): the connection wakes
// then if no query comes, and calls tcpIdle again.
func (r *tapReader) tcpIdle() time.Time {
	if r == nil || r.cur == nil || len(r.cur.recs) == 0 {
		return time.Time{}
	}
	dl := r.since.Add(tapHandOffEvery)
	if now := tapNow(); !dl.After(now) {
		r.handOff()
		if r.cur == nil || len(r.cur.recs) == 0 {
			return time.Time{}
		}
		dl = now.Add(tapHandOffEvery) // the writer holds every buffer: again later
	}
	return dl
}

func (r *tapReader) drop(log, dt bool, n uint64) {
	if log {
		r.logDropped.Add(n)
	}
	if dt {
		r.dnstapDropped.Add(n)
	}
}

func (b *tapBuffer) reset() {
	clear(b.recs) // let go of the zone names
	b.recs, b.bytes = b.recs[:0], b.bytes[:0]
}

// startTap starts the writer; Start calls it.
func (s *Server) startTap() {
	if s.tap != nil {
		s.tap.started = true
		go s.tap.run()
	}
}

// run gives the sink the buffers the readers hand over until stop.
func (t *tap) run() {
	defer close(t.done)
	for b := range t.full {
		t.cfg.Sink.Tap(b.recs)
		b.reset()
		b.owner.free <- b // never waits: a reader has room for all of its buffers
	}
}

// stop hands the writer what the readers still hold and waits until it
// is written. Call it once every reader has ended.
func (t *tap) stop() {
	if t == nil || !t.started {
		return
	}
	t.mu.Lock()
	readers := t.readers
	for r := range t.tcp {
		readers = append(readers, r)
	}
	t.mu.Unlock()
	for _, r := range readers {
		if b := r.cur; b != nil && len(b.recs) > 0 {
			t.full <- b // the writer is running: this waits at most for it
			r.cur = nil
		}
	}
	close(t.full)
	<-t.done
}

// TapDropped returns the queries the tap dropped so far because its
// buffers were full: those sampled for the query log, and those for
// dnstap. Both are 0 without a tap.
func (s *Server) TapDropped() (log, dnstap uint64) {
	t := s.tap
	if t == nil {
		return 0, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	log, dnstap = t.tcpLogDropped, t.tcpDnstapDropped
	for r := range t.tcp {
		log += r.logDropped.Load()
		dnstap += r.dnstapDropped.Load()
	}
	for _, r := range t.readers {
		log += r.logDropped.Load()
		dnstap += r.dnstapDropped.Load()
	}
	return log, dnstap
}
