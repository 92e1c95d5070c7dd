package xfr

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/zone"
)

// Published is what the notifier follows: the zone snapshots the DNS
// server answers from. *publish.Publisher is one.
type Published interface {
	Revision() store.Revision
	WaitFor(ctx context.Context, rev store.Revision) error
	Current() *zone.Snapshot
	// ZoneRecordsChanged names the zones whose settings were written
	// after since, and the revision to pass as since next time.
	ZoneRecordsChanged(since store.Revision) ([]model.Name, store.Revision)
}

// NotifySource gives the notifier each zone's NOTIFY targets and SOA.
// *control.Zones is one.
type NotifySource interface {
	GetZone(ctx context.Context, z model.Name) (model.ZoneInfo, error)
	RRsets(ctx context.Context, z model.Name, f control.RRsetFilter) ([]*model.RRset, uint32, error)
}

// NotifierOptions tune the notifier; zero fields take the defaults.
type NotifierOptions struct {
	// Delay gathers the serial changes of this long into one NOTIFY
	// (default 100ms).
	Delay time.Duration
	// Timeout is how long an attempt waits for the secondary's answer
	// (default 2s); RetryMax caps the backoff between attempts (default
	// 1m; it starts at 1s).
	Timeout, RetryMax time.Duration
	// Clock times the delay and the backoff (default clock.Real()). The
	// wait for an answer, Timeout, is network time, on the system clock.
	Clock clock.Clock
	// Metrics counts the NOTIFY messages (default: counted, not
	// exported).
	Metrics *Metrics
}

// Notifier sends NOTIFY (RFC 1996) to each zone's secondaries whenever its
// published serial changes, and at start. Each secondary is retried with
// backoff until it acknowledges, or a newer serial replaces the round.
type Notifier struct {
	pub  Published
	src  NotifySource
	keys Keys
	opts NotifierOptions
	log  *slog.Logger

	busy atomic.Int64 // rounds and NOTIFYs under way, started by Run
}

// NewNotifier returns a notifier that signs with the keys of keys; Run
// starts it.
func NewNotifier(pub Published, src NotifySource, keys Keys, opts NotifierOptions, log *slog.Logger) *Notifier {
	if opts.Delay <= 0 {
		opts.Delay = 100 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{pub: pub, src: src, keys: keys, opts: opts, log: log}
}

// Run follows the published snapshots until ctx is done. A zone whose
// serial changed gets a round; so does a zone that gained a NOTIFY
// target, so that a secondary added to it hears of the current serial
// without waiting for the next change. Run returns once the rounds and
// NOTIFYs it started have ended.
func (n *Notifier) Run(ctx context.Context) {
	seen := map[string]uint32{}
	targets := map[model.Name][]model.NotifyTarget{} // as last read
	var settingsSeen store.Revision
	rounds := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	defer func() {
		for _, cancel := range rounds {
			cancel()
		}
		wg.Wait()
	}()
	for {
		rev := n.pub.Revision()
		changed := changedZones(n.pub.Current(), seen)
		settings, _ := n.pub.ZoneRecordsChanged(settingsSeen)
		if len(changed) > 0 || len(settings) > 0 {
			// Let the changes that follow closely join this round.
			if !n.sleep(ctx, n.opts.Delay) {
				return
			}
			rev = n.pub.Revision()
			snap := n.pub.Current()
			for name, z := range changedZones(snap, seen) {
				changed[name] = z
			}
			start := map[string]bool{}
			for name, z := range changed {
				start[name] = z != nil
				if z == nil {
					delete(targets, model.Name(name))
				}
			}
			settings, settingsSeen = n.pub.ZoneRecordsChanged(settingsSeen)
			for _, z := range settings {
				info, err := n.src.GetZone(ctx, z)
				if err != nil {
					continue // deleted since; its round, if any, finds out
				}
				if _, ok := changed[string(z)]; !ok && gainsTarget(targets[z], info.Notify) {
					start[string(z)] = true
				}
				targets[z] = info.Notify
			}
			for name, run := range start {
				if cancel := rounds[name]; cancel != nil {
					cancel()
				}
				if !run {
					delete(rounds, name)
					continue
				}
				rctx, cancel := context.WithCancel(ctx)
				rounds[name] = cancel
				n.start(&wg, func() { n.round(rctx, model.Name(name), &wg) })
			}
		}
		if err := n.pub.WaitFor(ctx, rev+1); err != nil {
			return
		}
	}
}

// start runs f in a goroutine counted in wg and in busy.
func (n *Notifier) start(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	n.busy.Add(1)
	go func() {
		defer wg.Done()
		defer n.busy.Add(-1)
		defer telemetry.Recover(n.log, "notify") // a newer serial starts a new round
		f()
	}()
}

// sleep waits d on the clock. It reports false when ctx ends first.
func (n *Notifier) sleep(ctx context.Context, d time.Duration) bool {
	t := n.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// gainsTarget says whether now lists a NOTIFY target (address and key)
// that before does not.
func gainsTarget(before, now []model.NotifyTarget) bool {
	for _, t := range now {
		if !slices.Contains(before, t) {
			return true
		}
	}
	return false
}

// changedZones returns the zones whose serial differs from seen (nil for
// zones gone), and records the new serials in seen.
func changedZones(snap *zone.Snapshot, seen map[string]uint32) map[string]*zone.Zone {
	out := map[string]*zone.Zone{}
	present := map[string]bool{}
	for _, z := range snap.Zones() {
		present[z.Name()] = true
		if s, ok := seen[z.Name()]; !ok || s != z.Serial() {
			seen[z.Name()] = z.Serial()
			out[z.Name()] = z
		}
	}
	for name := range seen {
		if !present[name] {
			delete(seen, name)
			out[name] = nil
		}
	}
	return out
}

// round notifies every secondary of zone z of its current SOA, each in a
// goroutine counted in wg.
func (n *Notifier) round(ctx context.Context, z model.Name, wg *sync.WaitGroup) {
	info, err := n.src.GetZone(ctx, z)
	if err == nil && len(info.Notify) == 0 {
		return
	}
	var sets []*model.RRset
	if err == nil {
		sets, _, err = n.src.RRsets(ctx, z, control.RRsetFilter{Name: z, Type: model.TypeSOA})
	}
	var soa dns.RR
	if err == nil && len(sets) == 1 {
		soa, err = model.ToRR(z, model.TypeSOA, sets[0].TTL, sets[0].Rdata[0])
	}
	if err != nil || soa == nil {
		if !errors.Is(err, control.ErrZoneNotFound) && ctx.Err() == nil {
			n.log.Warn("notify: cannot read the zone", "zone", z, "err", err)
		}
		return
	}
	ctx, span := traceRound(ctx, z, soa.(*dns.SOA).Serial, len(info.Notify))
	defer span.End()
	for _, t := range info.Notify {
		n.start(wg, func() { n.notify(ctx, soa.(*dns.SOA), t) })
	}
}

// notify sends NOTIFY to one secondary until it answers NOERROR.
func (n *Notifier) notify(ctx context.Context, soa *dns.SOA, t model.NotifyTarget) {
	z, serial := soa.Hdr.Name, soa.Serial
	backoff := time.Second
	ctx, span := traceSend(ctx, t)
	defer span.End()
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			n.opts.Metrics.notifyRetries.Inc()
		}
		err := n.send(ctx, soa, t)
		notifyAttempt(span, attempt, err)
		if err == nil {
			n.opts.Metrics.notifyAcked.Inc()
			n.log.Info("notify acknowledged", "zone", z, "serial", serial, "secondary", t.Address, "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt == 1 || attempt%10 == 0 {
			n.log.Warn("notify not acknowledged; retrying", "zone", z, "serial", serial, "secondary", t.Address, "attempt", attempt, "err", err, "next", backoff)
		}
		if !n.sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, n.opts.RetryMax)
	}
}

// send makes one NOTIFY attempt, with the SOA as the hint of RFC 1996
// section 3.7.
func (n *Notifier) send(ctx context.Context, soa *dns.SOA, t model.NotifyTarget) error {
	m := new(dns.Msg)
	m.SetNotify(soa.Hdr.Name)
	m.Answer = []dns.RR{soa}
	c := &dns.Client{Net: "udp", Timeout: n.opts.Timeout}
	if t.Key != "" {
		k, err := n.keys.TSIGKey(ctx, string(t.Key))
		if err != nil {
			return err
		}
		c.TsigSecret = k.Sign(m)
	}
	n.opts.Metrics.notifySent.Inc()
	r, _, err := c.ExchangeContext(ctx, m, t.Address.String())
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return errors.New("answered " + dns.RcodeToString[r.Rcode])
	}
	return nil
}
