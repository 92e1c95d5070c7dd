package dnsserver

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
)

// AnomalyConfig says when the DNS listeners report an anomaly: a
// random-subdomain flood against a zone (NXDOMAIN answers) or a sudden
// spike of queries for one name. The zero value of a field means its
// default; the defaults are far above what a zone's or a name's normal
// traffic reaches on one node.
type AnomalyConfig struct {
	// Disabled turns detection off.
	Disabled bool
	// NXDomainPerSecond: a zone answering at least this many NXDOMAIN
	// a second is under a random-subdomain flood (default 1000).
	NXDomainPerSecond int
	// SpikeMinPerSecond and SpikeFactor: a name asked at least
	// SpikeMinPerSecond times a second and at least SpikeFactor times its
	// usual rate is in a spike (defaults 500 and 10).
	SpikeMinPerSecond int
	SpikeFactor       float64
	// Window is what a name's usual rate is averaged over (an
	// exponentially weighted average with this time constant); for the
	// first Window after start spikes are not reported while the usual
	// rates are learned (default 5m).
	Window time.Duration
	// Quiet ends an anomaly once its rate has stayed below the level that
	// started it for this long (default 30s).
	Quiet time.Duration
	// Clock is the detector's time (default the system's).
	Clock clock.Clock
}

// Defaults of AnomalyConfig.
const (
	DefaultNXDomainPerSecond = 1000
	DefaultSpikeMinPerSecond = 500
	DefaultSpikeFactor       = 10
	DefaultAnomalyWindow     = 5 * time.Minute
	DefaultAnomalyQuiet      = 30 * time.Second
)

func (c AnomalyConfig) withDefaults() (AnomalyConfig, error) {
	if c.NXDomainPerSecond < 0 || c.SpikeMinPerSecond < 0 || c.SpikeFactor < 0 || c.Window < 0 || c.Quiet < 0 {
		return c, fmt.Errorf("dns: anomalies: thresholds and durations must not be negative")
	}
	if c.SpikeFactor != 0 && c.SpikeFactor < 1 {
		return c, fmt.Errorf("dns: anomalies: spike factor %v is below 1", c.SpikeFactor)
	}
	if c.NXDomainPerSecond == 0 {
		c.NXDomainPerSecond = DefaultNXDomainPerSecond
	}
	if c.SpikeMinPerSecond == 0 {
		c.SpikeMinPerSecond = DefaultSpikeMinPerSecond
	}
	if c.SpikeFactor == 0 {
		c.SpikeFactor = DefaultSpikeFactor
	}
	if c.Window == 0 {
		c.Window = DefaultAnomalyWindow
	}
	if c.Quiet == 0 {
		c.Quiet = DefaultAnomalyQuiet
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	return c, nil
}

// Anomaly is the start or the end of an anomaly, as reported to the
// function set with SetAnomalyLog.
type Anomaly struct {
	Time time.Time
	// Key names what it is about: "zone:<zone>" for a random-subdomain
	// flood, "name:<name>" for a spike of one name (presentation format,
	// lowercase).
	Key    string
	Start  bool // it started; false: it ended
	Reason string
}

// ActorAnomaly is the actor of the events that report anomalies.
const ActorAnomaly = "anomaly"

// SetAnomalyLog has anomalies reported to f (from one goroutine, never
// concurrently) besides the log. Call it before Start.
func (s *Server) SetAnomalyLog(f func(Anomaly)) {
	if s.anomalies != nil {
		s.anomalies.report = f
	}
}

// startAnomalies starts the detector's loop, when there is one.
func (s *Server) startAnomalies() {
	if s.anomalies == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.anomalies.run(s.ctx)
	}()
}

// Bounds of the detector's own state.
const (
	maxOpenAnomalies = 32   // of each kind; more are counted, not reported
	maxTrackedNames  = 4096 // names whose usual rate is known
)

// detector gathers the readers' counts once a second and decides. Only
// its loop (tick) touches the fields below mu's.
type detector struct {
	cfg    AnomalyConfig
	log    *slog.Logger
	report func(Anomaly)
	copyAt uint32

	epoch atomic.Uint64
	ticks atomic.Uint64 // periods evaluated

	mu       sync.Mutex // guards counters and tcp
	counters []*anomalyCounter
	tcp      *anomalyCounter

	started    time.Time
	zones      map[string]*episode
	names      map[uint64]*trackedName
	zoneAcc    map[string]uint64
	nameAcc    map[uint64]*nameCount
	suppressed int
	dropped    int // names not tracked: the table was full
	lastWarn   time.Time
}

// episode is an anomaly while it lasts.
type episode struct {
	start       time.Time
	peak, total uint64
	under       time.Time // since when below its level; zero while above
}

// trackedName is a name whose usual rate is known.
type trackedName struct {
	name     string
	usual    float64 // queries a second, averaged over Window
	spike    *episode
	spikeWas float64 // usual rate when the spike started
}

type nameCount struct {
	count uint64
	name  []byte
}

// copyAt is the count in a reader's sketch at which the reader copies the
// name: half what a name at the spike level brings each of readers (and
// the TCP connections) when the readers share the load evenly, and at
// least 2, which a name of a random-subdomain flood, asked once, never
// reaches.
func copyAt(spikeMin, readers int) uint32 {
	return uint32(max(2, spikeMin/nameSample/(2*(max(1, readers)+1))))
}

func newDetector(cfg AnomalyConfig, readers int, log *slog.Logger) *detector {
	if cfg.Disabled {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &detector{
		cfg: cfg, log: log, started: cfg.Clock.Now(), copyAt: copyAt(cfg.SpikeMinPerSecond, readers),
		zones: map[string]*episode{}, names: map[uint64]*trackedName{},
		zoneAcc: map[string]uint64{}, nameAcc: map[uint64]*nameCount{},
	}
}

// reader returns a counter for one UDP reader; nil when detection is off.
func (d *detector) reader() *anomalyCounter {
	if d == nil {
		return nil
	}
	c := newAnomalyCounter(&d.epoch, d.copyAt)
	d.mu.Lock()
	d.counters = append(d.counters, c)
	d.mu.Unlock()
	return c
}

// tcpCounter returns the counter every TCP connection shares.
func (d *detector) tcpCounter() *anomalyCounter {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tcp == nil {
		d.tcp = newAnomalyCounter(&d.epoch, d.copyAt)
		d.tcp.shared = &sync.Mutex{}
		d.counters = append(d.counters, d.tcp)
	}
	return d.tcp
}

// run evaluates a period every second until ctx ends.
func (d *detector) run(ctx context.Context) {
	t := d.cfg.Clock.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C():
			t.Reset(time.Second)
			d.tick(now)
		}
	}
}

// tick collects the period the readers handed over (the one before the
// current epoch), starts the next and evaluates.
func (d *detector) tick(now time.Time) {
	clear(d.zoneAcc)
	clear(d.nameAcc)
	e := d.epoch.Load()
	d.mu.Lock()
	counters := d.counters
	d.mu.Unlock()
	for _, c := range counters {
		t := c.collect()
		if t == nil {
			continue
		}
		if t.epoch+1 == e {
			d.add(t)
		}
		c.release(t)
	}
	d.epoch.Store(e + 1)
	d.evalZones(now)
	d.evalNames(now)
	if (d.suppressed > 0 || d.dropped > 0) && now.Sub(d.lastWarn) >= time.Minute {
		d.log.Warn("anomalies not reported", "open_limit", maxOpenAnomalies, "suppressed", d.suppressed,
			"untracked_names", d.dropped, "tracked_limit", maxTrackedNames)
		d.suppressed, d.dropped, d.lastWarn = 0, 0, now
	}
	d.ticks.Add(1)
}

// add sums one reader's period into the accumulators.
func (d *detector) add(t *countTable) {
	for i := range t.zones {
		if z := &t.zones[i]; z.count > 0 {
			d.zoneAcc[z.zone] += uint64(z.count)
		}
	}
	for i := range t.slots {
		s := &t.slots[i]
		if s.count == 0 {
			continue
		}
		nc := d.nameAcc[s.hash]
		if nc == nil {
			nc = &nameCount{}
			d.nameAcc[s.hash] = nc
		}
		nc.count += uint64(s.count) * nameSample // one query in nameSample was counted
		if nc.name == nil {
			if n := t.name(s); n != nil {
				nc.name = append([]byte(nil), n...)
			}
		}
	}
}

func (d *detector) evalZones(now time.Time) {
	level := uint64(d.cfg.NXDomainPerSecond)
	for z, n := range d.zoneAcc {
		if n < level || d.zones[z] != nil {
			continue
		}
		if len(d.zones) >= maxOpenAnomalies {
			d.suppressed++
			continue
		}
		d.zones[z] = &episode{start: now}
		d.emit(Anomaly{Time: now, Key: "zone:" + z, Start: true, Reason: fmt.Sprintf(
			"random-subdomain flood: %d NXDOMAIN answers a second for names in %s (level %d/s)", n, z, level)})
	}
	for z, ep := range d.zones {
		n := d.zoneAcc[z]
		if !ep.step(now, n, n >= level, d.cfg.Quiet) {
			continue
		}
		delete(d.zones, z)
		d.emit(Anomaly{Time: now, Key: "zone:" + z, Reason: fmt.Sprintf(
			"random-subdomain flood ended: under %d NXDOMAIN answers a second for %v; it lasted %v, peak %d/s, %d NXDOMAIN answers in all",
			level, d.cfg.Quiet, ep.under.Sub(ep.start).Round(time.Second), ep.peak, ep.total)})
	}
}

// step counts a period of n into an open episode and reports whether it
// has ended: below its level (over false) for quiet.
func (ep *episode) step(now time.Time, n uint64, over bool, quiet time.Duration) bool {
	ep.total += n
	ep.peak = max(ep.peak, n)
	if over {
		ep.under = time.Time{}
		return false
	}
	if ep.under.IsZero() {
		ep.under = now
	}
	return now.Sub(ep.under) >= quiet
}

func (d *detector) evalNames(now time.Time) {
	minRate, factor := float64(d.cfg.SpikeMinPerSecond), d.cfg.SpikeFactor
	floor := minRate / factor // names above it have their usual rate kept
	warm := now.Sub(d.started) >= d.cfg.Window
	alpha := 1 - math.Exp(-float64(time.Second)/float64(d.cfg.Window))
	for h, nc := range d.nameAcc {
		if d.names[h] != nil || float64(nc.count) < floor {
			continue
		}
		if len(d.names) >= maxTrackedNames {
			d.dropped++
			continue
		}
		// A name not tracked was below the floor until now (or the
		// detector has just started: then its rate is its usual one).
		tn := &trackedName{}
		if !warm {
			tn.usual = float64(nc.count)
		}
		d.names[h] = tn
	}
	for h, tn := range d.names {
		var r float64
		if nc := d.nameAcc[h]; nc != nil {
			r = float64(nc.count)
			if tn.name == "" && nc.name != nil {
				tn.name = nameText(nc.name)
			}
		}
		if tn.spike != nil {
			if tn.spike.step(now, uint64(r), r >= minRate && r >= factor*tn.spikeWas, d.cfg.Quiet) {
				ep := tn.spike
				tn.spike, tn.usual = nil, tn.spikeWas // the spike is not what is usual
				d.emit(Anomaly{Time: now, Key: "name:" + tn.key(h), Reason: fmt.Sprintf(
					"query spike ended: %s under %d queries a second or %vx its usual %.0f/s for %v; it lasted %v, peak %d/s, %d queries in all",
					tn.key(h), int(minRate), factor, tn.spikeWas, d.cfg.Quiet, ep.under.Sub(ep.start).Round(time.Second), ep.peak, ep.total)})
			}
			continue
		}
		if warm && r >= minRate && r >= factor*tn.usual {
			if d.openSpikes() >= maxOpenAnomalies {
				d.suppressed++
			} else {
				tn.spike, tn.spikeWas = &episode{start: now, peak: uint64(r), total: uint64(r)}, tn.usual
				d.emit(Anomaly{Time: now, Key: "name:" + tn.key(h), Start: true, Reason: fmt.Sprintf(
					"query spike: %d queries a second for %s, usually %.0f/s (levels %d/s and %vx usual)",
					int(r), tn.key(h), tn.usual, int(minRate), factor)})
				continue
			}
		}
		tn.usual += (r - tn.usual) * alpha
		if tn.usual < floor/4 && r < floor {
			delete(d.names, h) // quiet again: forget it
		}
	}
}

func (d *detector) openSpikes() int {
	n := 0
	for _, tn := range d.names {
		if tn.spike != nil {
			n++
		}
	}
	return n
}

// key is the name as reported: its text, or its hash when no reader
// copied it (a spike spread thin over many readers).
func (tn *trackedName) key(h uint64) string {
	if tn.name != "" {
		return tn.name
	}
	return "hash-" + strconv.FormatUint(h, 16)
}

func (d *detector) emit(a Anomaly) {
	if a.Start {
		d.log.Warn("dns anomaly", "key", a.Key, "reason", a.Reason)
	} else {
		d.log.Info("dns anomaly ended", "key", a.Key, "reason", a.Reason)
	}
	if d.report != nil {
		d.report(a)
	}
}

// nameText writes a wire-format name in presentation format, lowercase,
// with octets other than letters, digits, '-', '_' and '*' as \DDD.
func nameText(wire []byte) string {
	var b []byte
	for i := 0; i < len(wire); {
		n := int(wire[i])
		i++
		if n == 0 || i+n > len(wire) {
			break
		}
		for _, c := range wire[i : i+n] {
			switch {
			case c >= 'A' && c <= 'Z':
				b = append(b, c+'a'-'A')
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '*':
				b = append(b, c)
			default:
				b = append(b, fmt.Sprintf(`\%03d`, c)...)
			}
		}
		b = append(b, '.')
		i += n
	}
	if len(b) == 0 {
		return "."
	}
	return string(b)
}
