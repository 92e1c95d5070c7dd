package steerctl

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Options configure a Controller.
type Options struct {
	// Locator maps client addresses to locations (nil: unknown).
	Locator geo.Locator
	// Latency is the latency table for the latency policy.
	Latency steer.LatencyTable
	// Resolver resolves hostnames of flattened services (default: the
	// system resolver).
	Resolver *net.Resolver
	// FlattenRefresh is how often flattened hostnames are resolved again
	// (default 30s).
	FlattenRefresh time.Duration
	// Clock is the time and the timers the controller runs on (default
	// clock.Real()).
	Clock clock.Clock
	// Events, when set, keeps the checker's events: the controller writes
	// them there as they come, in batches (see persistEvents), until
	// Close, which writes what is left.
	Events *control.EventLog
	// EventBatch is how long events are gathered before they are written
	// (default DefaultEventBatch).
	EventBatch time.Duration
	// Health is where the endpoints' health is read from (default: the
	// checker): a node of a cluster gives its merged view
	// (healthview.View), whose OnChange then calls HealthChanged.
	Health HealthSource
	// Alerts takes the alerts of failovers, endpoints going down and up
	// and lapsed leases (nil: alert.Discard). Emit is called with the
	// controller's lock held; it must not block.
	Alerts alert.Sink
	// Metrics is where the steering metrics are registered (nil: not
	// exported, and the query path counts no answers).
	Metrics prometheus.Registerer
	Logger  *slog.Logger
}

// HealthSource gives a checked target's status by key.
type HealthSource interface {
	Status(key string) (health.Status, bool)
}

// Controller owns the steering state. It implements publish.ServiceSink.
//
// Its parts, each in a file of its own, share one lock (mu): the health
// targets of each service (targets.go), the timers for the moments a
// service's answers change by themselves (timers.go), compiling and
// publishing the snapshot (compile.go), flattening (flatten.go) and the
// events it logs (events.go, persist.go).
type Controller struct {
	opts    Options
	log     *slog.Logger
	clk     clock.Clock
	checker *health.Checker
	health  HealthSource // Options.Health, or checker
	cur     atomic.Pointer[steer.Snapshot]

	mu        sync.Mutex
	closed    bool
	services  map[model.Name]*model.Service
	endpoints map[model.Name]map[string]*model.Endpoint
	compiled  map[model.Name]*steer.CompiledService
	targets   healthTargets
	timers    timers
	parsed    map[string]steer.Target // endpoint addresses, parsed
	flat      map[model.Name]flatAddrs
	changed   chan struct{} // closed and replaced at each new snapshot
	watched   map[model.Name]*watched
	metrics   *metrics
	meter     *steer.Meter // nil: answers are not counted
	trace     tracing      // the trace a recompilation runs in

	kick   chan struct{} // wakes the flattening loop
	ctx    context.Context
	cancel context.CancelFunc // called by Close
	done   sync.WaitGroup     // the goroutines New started
}

var _ publish.ServiceSink = (*Controller)(nil)

// New returns a controller that feeds checker, and starts its flattening
// loop and, with opts.Events, the writing of the checker's events; Close
// stops them. Wire checker's OnChange to HealthChanged.
func New(checker *health.Checker, opts Options) *Controller {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Alerts == nil {
		opts.Alerts = alert.Discard
	}
	if opts.FlattenRefresh <= 0 {
		opts.FlattenRefresh = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{
		opts: opts, log: log, clk: opts.Clock, checker: checker,
		services:  map[model.Name]*model.Service{},
		endpoints: map[model.Name]map[string]*model.Endpoint{},
		compiled:  map[model.Name]*steer.CompiledService{},
		targets:   newHealthTargets(checker),
		parsed:    map[string]steer.Target{},
		flat:      map[model.Name]flatAddrs{},
		kick:      make(chan struct{}, 1),
		changed:   make(chan struct{}),
		watched:   map[model.Name]*watched{},
		metrics:   newMetrics(),
	}
	c.register(opts.Metrics)
	c.health = opts.Health
	if c.health == nil && checker != nil {
		c.health = checker
	}
	c.timers = newTimers(opts.Clock, func(gen uint64) {
		defer telemetry.Recover(c.log, "steering") // the next change arms the timers again
		if timerHook != nil {
			timerHook()
		}
		c.timerFired(gen)
	})
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.cur.Store(steer.NewSnapshot(nil, opts.Locator, opts.Latency))
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		telemetry.Restart(c.ctx, c.clk, c.log, "steering", telemetry.RestartPause, c.flattenLoop)
	}()
	if opts.Events != nil && checker != nil {
		c.done.Add(1)
		go func() {
			defer c.done.Done()
			telemetry.Restart(c.ctx, c.clk, log, "steering", telemetry.RestartPause, func(ctx context.Context) {
				persistEvents(ctx, c.clk, checker, opts.Events, opts.EventBatch, log)
			})
		}()
	}
	return c
}

// timerHook, when set (by tests), is called when a timer fires.
var timerHook func()

// Close stops every goroutine and timer the controller started and
// returns once they have stopped; the events not written yet are written
// first. The snapshot stays readable; health changes and timers no longer
// recompile. Close is idempotent.
func (c *Controller) Close() {
	c.mu.Lock()
	c.closed = true
	c.timers.stop()
	c.mu.Unlock()
	c.cancel()
	c.timers.wait()
	c.done.Wait()
}

// Snapshots returns the pointer the DNS server loads steering from.
func (c *Controller) Snapshots() *atomic.Pointer[steer.Snapshot] { return &c.cur }

// ResetServices replaces every service and endpoint (publish.ServiceSink).
func (c *Controller) ResetServices(svcs []*model.Service, eps []*model.Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.services = map[model.Name]*model.Service{}
	c.endpoints = map[model.Name]map[string]*model.Endpoint{}
	for _, s := range svcs {
		c.services[s.Name] = s
	}
	for _, e := range eps {
		c.putEndpoint(e)
	}
	c.compiled = map[model.Name]*steer.CompiledService{}
	c.parsed = map[string]steer.Target{}
	c.timers.reset()
	c.reconcileAll()
	for n := range c.watched {
		if c.services[n] == nil {
			c.watch(n, nil, time.Time{})
		}
	}
}

// UpdateServices applies one revision's changes (publish.ServiceSink).
// Lease renewals change nothing an answer depends on, so they only update
// the endpoint's record: thousands of renewals a second cost no
// recompilation.
func (c *Controller) UpdateServices(u publish.ServiceUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dirty := map[model.Name]bool{}
	var overrides []overrideNote
	for _, n := range u.DeletedServices {
		delete(c.services, n)
		delete(c.endpoints, n)
		delete(c.compiled, n)
		dirty[n] = true
	}
	for _, s := range u.Services {
		if old := c.services[s.Name]; old != nil {
			overrides = c.notePoolOverrides(overrides, old, s)
		}
		c.services[s.Name] = s
		dirty[s.Name] = true
	}
	for _, r := range u.DeletedEndpoints {
		if m := c.endpoints[r.Service]; m != nil {
			delete(m, r.ID)
		}
		c.timers.forgetLapse(steer.Key(r.Service, r.ID))
		dirty[r.Service] = true
	}
	now := c.clk.Now()
	for _, e := range u.Endpoints {
		old := c.endpoints[e.Service][e.ID]
		if old != nil && !sameOverride(old.Override, e.Override) {
			overrides = c.noteOverride(overrides, e.Service, steer.Key(e.Service, e.ID), e.Override)
		}
		c.timers.forgetLapse(steer.Key(e.Service, e.ID))
		c.putEndpoint(e)
		if old == nil || !renewalOnly(old, e, now) {
			dirty[e.Service] = true
		}
	}
	if len(dirty) == 0 {
		return
	}
	names := make([]model.Name, 0, len(dirty))
	for n := range dirty {
		names = append(names, n)
	}
	c.reconcile(names)
	c.recordOverrides(overrides)
}

// renewalOnly reports whether e differs from old only by its lease times,
// with old's lease still running (so the answers do not change).
func renewalOnly(old, e *model.Endpoint, now time.Time) bool {
	return old.Pool == e.Pool && old.Address == e.Address && old.Weight == e.Weight && old.CheckTarget == e.CheckTarget &&
		old.LeaseTTL == e.LeaseTTL && sameOverride(old.Override, e.Override) && !old.Lapsed(now)
}

func (c *Controller) putEndpoint(e *model.Endpoint) {
	m := c.endpoints[e.Service]
	if m == nil {
		m = map[string]*model.Endpoint{}
		c.endpoints[e.Service] = m
	}
	m[e.ID] = e
}

func sameOverride(a, b *model.Override) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.State == b.State && a.Actor == b.Actor && a.Time.Equal(b.Time)
}

// Refresh recompiles every service from the checker's current statuses at
// once, without waiting for its change notification. What changes an
// answer calls HealthChanged with the keys it changed instead; Refresh is
// for a caller that cannot say (tests that set health directly).
func (c *Controller) Refresh() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.rebuildAll()
}

// EndpointStates returns what answers make of each endpoint of a service
// now, by endpoint id (nil for a service steering does not know).
func (c *Controller) EndpointStates(svc model.Name) map[string]steer.Verdict {
	s := c.cur.Load().Service(string(svc.Wire()))
	if s == nil {
		return nil
	}
	return s.Verdicts()
}

// EndpointAnswers returns, by endpoint id, whether the answers to a client
// with no location include each endpoint of a service now (nil for a
// service steering does not know): steer.CompiledService.AnsweredNow.
func (c *Controller) EndpointAnswers(svc model.Name) map[string]steer.Answered {
	s := c.cur.Load().Service(string(svc.Wire()))
	if s == nil {
		return nil
	}
	return s.AnsweredNow()
}

// EndpointState returns what answers make of one endpoint of a service
// now and whether the answers to a client with no location include it,
// or false when steering does not know it:
// steer.CompiledService.EndpointState.
func (c *Controller) EndpointState(svc model.Name, id string) (steer.Verdict, steer.Answered, bool) {
	s := c.cur.Load().Service(string(svc.Wire()))
	if s == nil {
		return steer.Verdict{}, steer.Answered{}, false
	}
	return s.EndpointState(id)
}

// Explain evaluates a service for a client as a query would and says why.
func (c *Controller) Explain(name model.Name, qtype uint16, client netip.Addr, subnet netip.Prefix) (*steer.Explanation, bool) {
	return c.cur.Load().Explain(string(name.Wire()), qtype, client, subnet)
}

// Status returns the health steering answers from for an endpoint (the
// checker's, or Options.Health's).
func (c *Controller) Status(svc model.Name, id string) (health.Status, bool) {
	if c.health == nil {
		return health.Status{}, false
	}
	return c.health.Status(steer.Key(svc, id))
}
