package publish

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/zone"
)

// Publisher keeps the zone snapshot the DNS server answers from in step
// with the store: it loads every zone once, then applies each committed
// revision from Watch to a copy of the current snapshot and swaps it in.
type Publisher struct {
	st  store.Store
	log *slog.Logger
	cur atomic.Pointer[zone.Snapshot]

	mu      sync.Mutex
	applied store.Revision
	changed chan struct{} // closed and replaced at every publish
	ready   chan struct{} // closed at the first publish
	failed  chan error    // receives the error of a first load that fails
	sink    ServiceSink

	state       StoreState         // the store's reach (Probe)
	onReach     func(StoreState)   // told when the reach changes (OnReach)
	lagAt       store.Revision     // applied when the store was first seen ahead
	lagCount    int                // probes in a row that saw the store ahead of lagAt
	watchCancel context.CancelFunc // ends the current watch (Probe restarts it)

	serviceNames map[model.Name]bool // the names of all services, for new zones
	tokens       auth.Table          // the API's tokens, as of the revision served

	// The revision that last wrote each zone's record (its settings and
	// counts), set before the revision is published.
	recMu   sync.Mutex
	zoneRec map[model.Name]store.Revision

	// The changes gathered from a run of revisions not yet published.
	b       *zone.Builder
	svcs    *serviceChanges
	toks    map[string]*auth.Token // by id; nil: deleted
	changes int                    // keys changed in the run
	arrived []arrival              // the run's revisions, as they came

	met    *metrics
	loaded bool // a full load was published (later ones are reloads)
}

// releaseAfter is how many changed keys a publish takes before the
// publisher returns the memory the work freed to the operating system:
// loading or importing a large zone leaves garbage several times the size
// of its snapshot, which the Go runtime would otherwise keep (and count
// in the size it lets the heap grow to before the next collection).
const releaseAfter = 10000

// releaseMemory collects the garbage and returns the free memory to the
// operating system. It takes two collections: the first only moves what
// sync.Pools hold (the store's page buffers, after a large commit) to
// their victim caches, which the second frees.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// New returns a publisher for st; it serves an empty snapshot until Run
// has loaded the store.
func New(st store.Store, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{st: st, log: log, changed: make(chan struct{}), ready: make(chan struct{}), failed: make(chan error, 1),
		serviceNames: map[model.Name]bool{}, zoneRec: map[model.Name]store.Revision{}, met: newMetrics()}
	p.cur.Store(zone.Empty())
	return p
}

// Snapshots returns the pointer the DNS server loads the current snapshot
// from.
func (p *Publisher) Snapshots() *atomic.Pointer[zone.Snapshot] { return &p.cur }

// Current returns the snapshot published last.
func (p *Publisher) Current() *zone.Snapshot { return p.cur.Load() }

// Ready is closed once the first full load has been published.
func (p *Publisher) Ready() <-chan struct{} { return p.ready }

// Failed receives the error of the first load when it fails (Run keeps
// retrying); a caller waiting for Ready can give up on it.
func (p *Publisher) Failed() <-chan error { return p.failed }

// Revision returns the store revision of the published snapshot.
func (p *Publisher) Revision() store.Revision {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor returns once a snapshot at revision rev or later is published.
func (p *Publisher) WaitFor(ctx context.Context, rev store.Revision) (err error) {
	span := p.traceWait(ctx, rev)
	defer func() { telemetry.Fail(span, err); span.End() }()
	for {
		p.mu.Lock()
		if p.applied >= rev {
			p.mu.Unlock()
			return nil
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run loads the store and follows it until ctx is done. If the watch falls
// behind the store's history, or a change cannot be applied, it reloads.
// A panic while loading or applying a change is such a failure: logged
// with its stack, counted (stratus_panics_recovered_total{component=
// "publisher"}), and followed by a full reload, so publishing goes on.
func (p *Publisher) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		var rev store.Revision
		err := telemetry.Catch(p.log, "publisher", func() (err error) {
			rev, err = p.load(ctx)
			return err
		})
		if err != nil {
			select {
			case <-p.ready:
			default:
				select {
				case p.failed <- err:
				default:
				}
			}
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			p.b, p.svcs, p.toks, p.changes, p.arrived = nil, nil, nil, 0, nil
			wctx, cancel := context.WithCancel(ctx)
			p.mu.Lock()
			p.watchCancel = cancel
			p.mu.Unlock()
			err = p.st.Watch(wctx, rev, p.applyGuarded)
			p.mu.Lock()
			p.watchCancel = nil
			p.mu.Unlock()
			restarted := wctx.Err() != nil && ctx.Err() == nil
			cancel()
			if restarted {
				continue
			}
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, store.ErrClosed):
			return err
		case errors.Is(err, store.ErrCompacted):
			p.log.Info("snapshot publisher fell behind the store history; reloading", "revision", rev)
			continue
		}
		p.log.Error("snapshot publisher failed; reloading", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// load builds a snapshot of the whole store and publishes it.
func (p *Publisher) load(ctx context.Context) (store.Revision, error) {
	start := time.Now()
	b := zone.NewBuilder(zone.Empty())
	var rev store.Revision
	var zones, sets int
	err := p.st.View(ctx, func(tx store.ReadTx) error {
		rev = tx.Revision()
		err := tx.Scan(schema.PrefixZones, "", func(key string, value []byte) error {
			z, ok := schema.ParseZoneKey(key)
			if !ok {
				schema.Skip(p.log, key, schema.BadKey(key))
				return nil
			}
			zones++
			p.setZoneRecord(z, rev, false)
			return b.CreateZone(z.Wire(), string(z), p.zoneSize(key, value))
		})
		if err != nil {
			return err
		}
		l := newRRsetLoader(p, b)
		err = tx.Scan(schema.PrefixRRsets, "", func(key string, value []byte) error {
			sets++
			l.add(key, value)
			return nil
		})
		l.wait()
		if err != nil {
			return err
		}
		if err := p.loadServices(tx, b); err != nil {
			return err
		}
		return p.loadTokens(tx)
	})
	if err != nil {
		return 0, err
	}
	if r, ok := p.st.(store.MemoryReleaser); ok && sets >= releaseAfter {
		if err := r.ReleaseMemory(); err != nil {
			p.log.Warn("cannot release the memory the store load used", "err", err)
		}
	}
	if p.loaded {
		p.met.reloads.Inc()
	}
	p.loaded = true
	p.publish(b.Build(rev), sets >= releaseAfter, nil)
	p.log.Info("zones loaded", "zones", zones, "rrsets", sets, "revision", rev, "took", time.Since(start).Round(time.Millisecond))
	return rev, nil
}

// applyHook, when set (by tests), is called with each batch before it is
// applied.
var applyHook func(store.Batch)

// applyGuarded is apply with a panic turned into its error (Run then
// reloads the whole store: the builder may be half-written).
func (p *Publisher) applyGuarded(batch store.Batch) error {
	return telemetry.Catch(p.log, "publisher", func() error {
		if applyHook != nil {
			applyHook(batch)
		}
		return p.apply(batch)
	})
}

// apply applies one committed revision. A run of revisions committed
// together (store.Batch.More) is gathered and published once, after its
// last revision: one new snapshot and one steering update for a whole
// group commit.
func (p *Publisher) apply(batch store.Batch) error {
	if p.b == nil {
		p.b = zone.NewBuilder(p.cur.Load())
		p.svcs = newServiceChanges()
		p.toks = map[string]*auth.Token{}
	}
	b := p.b
	// Nothing below uses batch after its events: a large batch can be
	// collected when the memory is released at the publish.
	rev, more := batch.Revision, batch.More
	p.changes += len(batch.Events)
	p.arrived = append(p.arrived, arrival{rev, time.Now()})
	deleted := map[model.Name]bool{}
	for _, ev := range batch.Events {
		if !strings.HasPrefix(ev.Key, schema.PrefixZones) {
			continue
		}
		z, ok := schema.ParseZoneKey(ev.Key)
		if !ok {
			schema.Skip(p.log, ev.Key, schema.BadKey(ev.Key))
			continue
		}
		p.setZoneRecord(z, rev, ev.Deleted)
		switch {
		case ev.Deleted:
			b.DeleteZone(z.Wire())
			deleted[z] = true
		case !b.HasZone(z.Wire()):
			if err := b.CreateZone(z.Wire(), string(z), p.zoneSize(ev.Key, ev.Value)); err != nil {
				p.b, p.arrived = nil, nil
				return err
			}
			p.markZoneServices(b, z)
		}
	}
	var keys schema.RRsetKeyReader
	for _, ev := range batch.Events {
		if p.serviceEvent(ev, p.svcs, b) || p.tokenEvent(ev, p.toks) || !strings.HasPrefix(ev.Key, schema.PrefixRRsets) {
			continue
		}
		z, zw, owner, t, ok := keys.Read(ev.Key)
		if !ok {
			schema.Skip(p.log, ev.Key, schema.BadKey(ev.Key))
			continue
		}
		if deleted[z] {
			continue
		}
		if ev.Deleted {
			if err := b.SetRRset(zw, owner, t, 0, nil); err != nil {
				p.log.Error("cannot remove an RRset from the snapshot", "key", ev.Key, "err", err)
			}
			continue
		}
		p.applyRRset(b, zw, owner, t, ev.Key, ev.Value)
	}
	if more {
		return nil
	}
	if u := p.svcs.update(); p.sink != nil && !u.Empty() {
		p.sink.UpdateServices(u)
	}
	p.applyTokens(p.toks)
	p.b, p.svcs, p.toks = nil, nil, nil
	p.publish(b.Build(rev), p.changes >= releaseAfter, p.arrived)
	p.changes, p.arrived = 0, p.arrived[:0]
	return nil
}

func (p *Publisher) setZoneRecord(z model.Name, rev store.Revision, deleted bool) {
	p.recMu.Lock()
	defer p.recMu.Unlock()
	if deleted {
		delete(p.zoneRec, z)
		return
	}
	p.zoneRec[z] = rev
}

// ZoneRecordsChanged returns the zones whose record (settings such as
// NOTIFY targets and ACLs, or counts) was written in a revision after
// since, and the latest such revision (since when there is none): what a
// follower of zone settings passes as since the next time.
func (p *Publisher) ZoneRecordsChanged(since store.Revision) ([]model.Name, store.Revision) {
	p.recMu.Lock()
	defer p.recMu.Unlock()
	var out []model.Name
	top := since
	for z, rev := range p.zoneRec {
		if rev > since {
			out = append(out, z)
			top = max(top, rev)
		}
	}
	return out, top
}

// zoneSize returns the number of RRsets the zone record stored under key
// counts, an estimate of the names the zone holds. A record that cannot
// be read is logged and gives no estimate (0): the zone, which its key
// names, is served all the same.
func (p *Publisher) zoneSize(key string, value []byte) int {
	zr, err := schema.DecodeZone(key, value)
	if err != nil {
		schema.Skip(p.log, key, err)
		return 0
	}
	return max(zr.RRsets, 0)
}

// applyRRset puts one stored RRset into the builder. A set that cannot be
// read, or served, is left out and logged: one bad value must not stop the
// server from serving everything else.
func (p *Publisher) applyRRset(b *zone.Builder, z, owner []byte, t model.Type, key string, value []byte) {
	ttl, _, records, err := schema.RRsetRecords(key, value)
	if err != nil {
		schema.Skip(p.log, key, err)
		return
	}
	if err := b.SetRRsetWire(z, owner, t, ttl, records); err != nil {
		p.log.Error("skipping an RRset that cannot be served", "key", key, "err", err)
	}
}

// publish serves s, the revisions arrived, and observes their lag. With
// release, it returns the memory the work freed to the operating system
// before it tells waiters (WaitFor, Ready) that s is served.
func (p *Publisher) publish(s *zone.Snapshot, release bool, arrived []arrival) {
	p.cur.Store(s)
	p.observeLag(arrived, time.Now())
	p.met.revision.Set(float64(s.Revision()))
	if release {
		releaseMemory()
	}
	p.mu.Lock()
	p.applied = s.Revision()
	close(p.changed)
	p.changed = make(chan struct{})
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	p.mu.Unlock()
}
