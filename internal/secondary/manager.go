package secondary

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/zone"
)

// Store is what the manager reads and writes of secondary zones.
// *control.Secondaries is one.
type Store interface {
	SecondaryZones(ctx context.Context) ([]control.SecondaryZone, error)
	SecondaryZone(ctx context.Context, z model.Name) (sz control.SecondaryZone, ok bool, err error)
	LoadFromPrimary(ctx context.Context, z model.Name, sets []*model.RRset, primary string) (control.ChangeResult, error)
	ApplyFromPrimary(ctx context.Context, z model.Name, deltas []control.IXFRDelta, primary string) (control.ChangeResult, error)
	MarkRefreshed(ctx context.Context, z model.Name, failure string) (model.SecondaryState, error)
	ExpireSecondary(ctx context.Context, z model.Name) error
}

// Keys finds the TSIG keys that sign the requests to primaries.
// *control.TSIGKeys is one.
type Keys interface {
	TSIGKey(ctx context.Context, name string) (*model.TSIGKey, error)
}

// Options tune the manager; zero fields take the defaults.
type Options struct {
	// Resync is how often the list of secondary zones is read again
	// (default 5s); a NOTIFY for a zone not yet known reads it at once.
	Resync time.Duration
	// Timeout bounds a SOA query (default 2s); TransferTimeout bounds the
	// wait for each message of a transfer (default 30s).
	Timeout, TransferTimeout time.Duration
	// MaxRecords bounds the records of one transfer, counted as they
	// arrive: a primary sending more is cut off and the transfer fails
	// (default DefaultMaxRecords; zones.max_records).
	MaxRecords int
	// FirstRetry is the retry interval before the first transfer, when
	// there is no SOA to take it from (default 10s).
	FirstRetry time.Duration
	// Clock times the resync, and each zone's refresh, retry and expiry
	// (default clock.Real()). Timeout and TransferTimeout are network
	// time, on the system clock.
	Clock clock.Clock
	// Metrics, when set, gets the count of transfers in
	// (stratus_xfr_transfers_in_total).
	Metrics prometheus.Registerer
	// Alerts takes a secondary_expired alert when a zone expires (default
	// nowhere).
	Alerts alert.Sink
}

// DefaultMaxRecords is Options.MaxRecords when not set, the default of
// zones.max_records.
const DefaultMaxRecords = 5_000_000

// Manager runs one refresh loop per secondary zone.
type Manager struct {
	st   Store
	keys Keys
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	zones   map[model.Name]*zoneLoop
	running bool     // Run is under way: this node refreshes the zones
	hand    *handoff // set while Handoff runs
	resync  chan struct{}
	// published is the snapshot source Follow watches (nil before), and
	// synced the zones it held when the last read of the secondary zones
	// began: a NOTIFY for a name that is no zone there, or for a zone
	// that read already saw, reads nothing again.
	published Zones
	synced    map[string]bool

	transfers *prometheus.CounterVec // transfersIn
}

// New returns a manager writing to st and signing with the keys of keys;
// Run starts it.
func New(st Store, keys Keys, opts Options, log *slog.Logger) *Manager {
	if opts.Resync <= 0 {
		opts.Resync = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.TransferTimeout <= 0 {
		opts.TransferTimeout = 30 * time.Second
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if opts.FirstRetry <= 0 {
		opts.FirstRetry = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Alerts == nil {
		opts.Alerts = alert.Discard
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{st: st, keys: keys, opts: opts, log: log, zones: map[model.Name]*zoneLoop{}, resync: make(chan struct{}, 1),
		transfers: transfersIn(opts.Metrics)}
}

// zoneLoop is one zone's refresh loop.
type zoneLoop struct {
	mu     sync.Mutex
	zone   control.SecondaryZone // as last read
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func (zl *zoneLoop) get() control.SecondaryZone {
	zl.mu.Lock()
	defer zl.mu.Unlock()
	return zl.zone
}

func (zl *zoneLoop) set(z control.SecondaryZone) {
	zl.mu.Lock()
	zl.zone = z
	zl.mu.Unlock()
}

// Zones tells the manager when the set of zones changes: *publish.Publisher
// with its snapshots, as the notifier sees them.
type Zones interface {
	Revision() store.Revision
	WaitFor(ctx context.Context, rev store.Revision) error
	Current() *zone.Snapshot
}

// Follow wakes the manager whenever a zone is created or deleted, so that
// a new secondary zone is transferred at once. It runs until ctx is done.
func (m *Manager) Follow(ctx context.Context, zs Zones) {
	m.mu.Lock()
	m.published = zs
	m.mu.Unlock()
	names := func() string {
		var b strings.Builder
		for _, z := range zs.Current().Zones() {
			b.WriteString(z.Name())
			b.WriteByte(' ')
		}
		return b.String()
	}
	last := names()
	for {
		if err := zs.WaitFor(ctx, zs.Revision()+1); err != nil {
			return
		}
		if cur := names(); cur != last {
			last = cur
			select {
			case m.resync <- struct{}{}:
			default:
			}
		}
	}
}

// Run keeps the refresh loops in step with the secondary zones until ctx
// is done.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		loops := m.zones
		m.zones = map[model.Name]*zoneLoop{}
		m.running = false
		m.mu.Unlock()
		for _, zl := range loops {
			zl.cancel()
			<-zl.done
		}
	}()
	timer := m.opts.Clock.NewTimer(m.opts.Resync)
	defer timer.Stop()
	for {
		if err := m.sync(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("cannot read the secondary zones", "err", err)
		}
		timer.Reset(m.opts.Resync)
		select {
		case <-timer.C():
		case <-m.resync:
		case <-ctx.Done():
			return
		}
	}
}

// sync starts loops for new secondary zones, stops those of zones gone
// and waits for them, and hands each loop the zone's latest settings.
func (m *Manager) sync(ctx context.Context) error {
	m.mu.Lock()
	zs := m.published
	m.mu.Unlock()
	var synced map[string]bool
	if zs != nil {
		synced = map[string]bool{}
		for _, z := range zs.Current().Zones() {
			synced[z.Name()] = true
		}
	}
	zones, err := m.st.SecondaryZones(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.synced = synced
	m.mu.Unlock()
	for _, zl := range m.update(ctx, zones) {
		<-zl.done
	}
	return nil
}

// update starts and stops loops to match zones, and returns the loops it
// stopped; the caller waits for them without holding m.mu.
func (m *Manager) update(ctx context.Context, zones []control.SecondaryZone) (stopped []*zoneLoop) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[model.Name]bool{}
	for _, z := range zones {
		seen[z.Name] = true
		if zl := m.zones[z.Name]; zl != nil {
			zl.set(z)
			continue
		}
		zctx, cancel := context.WithCancel(ctx)
		zl := &zoneLoop{zone: z, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
		m.zones[z.Name] = zl
		go func() {
			defer close(zl.done)
			telemetry.Restart(zctx, m.opts.Clock, m.log.With("zone", z.Name), "secondary", telemetry.RestartPause, func(ctx context.Context) { m.loop(ctx, zl) })
		}()
	}
	for name, zl := range m.zones {
		if !seen[name] {
			zl.cancel()
			delete(m.zones, name)
			stopped = append(stopped, zl)
		}
	}
	return stopped
}

// Notify handles a NOTIFY for zone z from from, signed with the verified
// key ("" when unsigned), which announced serial (nil when it named
// none). It reports whether z is a secondary zone here and whether the
// sender may notify it: a primary's address, or the zone's notify ACL.
// An accepted NOTIFY starts a refresh at once: on this node when it runs
// the refresh loops (Run), and otherwise, while Handoff runs, on the node
// that does, through an ephemeral key; err means that hand-over failed.
// Neither reads the store (but a hand-over before the settings of the
// secondary zones were first read).
func (m *Manager) Notify(ctx context.Context, z, key model.Name, from netip.Addr, serial *uint32) (known, allowed bool, err error) {
	m.mu.Lock()
	zl, running, h := m.zones[z], m.running, m.hand
	m.mu.Unlock()
	if running || h == nil {
		known, allowed = m.notifyLoop(z, zl, key, from)
		return known, allowed, nil
	}
	sz, ok, read := h.zone(z)
	if !read { // the settings are not in memory yet
		var err error
		if sz, ok, err = m.st.SecondaryZone(ctx, z); err != nil {
			return false, false, err
		}
	}
	if !ok {
		return false, false, nil
	}
	if !allows(sz, key, from) {
		return true, false, nil
	}
	return true, true, h.forward(ctx, z, serial)
}

// CheckNotify tells, from memory and without starting anything, whether
// an unsigned NOTIFY for z from from would be heeded (xfr.NotifyChecker):
// the query path refuses the ones it need not parse. sure is false when
// only Notify can tell: the settings are not read yet, or z may be a zone
// created since they were.
func (m *Manager) CheckNotify(z model.Name, from netip.Addr) (known, allowed, sure bool) {
	m.mu.Lock()
	zl, running, h := m.zones[z], m.running, m.hand
	m.mu.Unlock()
	if running || h == nil {
		if zl == nil {
			return false, false, !m.created(z)
		}
		return true, allows(zl.get(), "", from), true
	}
	sz, ok, read := h.zone(z)
	if !read {
		return false, false, false
	}
	return ok, ok && allows(sz, "", from), true
}

// notifyLoop wakes zone z's refresh loop zl (nil when there is none) for
// a NOTIFY.
func (m *Manager) notifyLoop(z model.Name, zl *zoneLoop, key model.Name, from netip.Addr) (known, allowed bool) {
	if zl == nil {
		if m.created(z) {
			select { // a zone created since the last read
			case m.resync <- struct{}{}:
			default:
			}
		}
		return false, false
	}
	allowed = allows(zl.get(), key, from)
	if allowed {
		zl.kick()
	}
	return true, allowed
}

// created reports whether z, which has no refresh loop, may be a zone
// created since the secondary zones were last read: a zone of the
// published snapshot that the last read did not see (or, before Follow
// and a read, any name). A NOTIFY for any other name (spoofed, or for a
// primary zone) reads the zone list again only at the next resync; a zone
// that became a secondary one without being created again is found there.
func (m *Manager) created(z model.Name) bool {
	m.mu.Lock()
	zs, synced := m.published, m.synced
	m.mu.Unlock()
	if zs == nil || synced == nil {
		return true
	}
	return zs.Current().Zone(z.Wire()) != nil && !synced[string(z)]
}

// allows reports whether a NOTIFY for sz signed with key (or "") from
// from is to be heeded: from a primary (with its key, when it has one),
// or allowed by the zone's notify ACL.
func allows(sz control.SecondaryZone, key model.Name, from netip.Addr) bool {
	if model.ACLAllows(sz.ACL.Notify, key, from) {
		return true
	}
	for _, p := range sz.Primaries {
		if p.Address.Addr() == from.Unmap() && (p.Key == "" || p.Key == key) {
			return true
		}
	}
	return false
}

// kick starts a refresh of the loop's zone at once, or right after the
// one under way.
func (zl *zoneLoop) kick() {
	select {
	case zl.wake <- struct{}{}:
	default:
	}
}
