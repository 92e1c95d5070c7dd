package steerctl

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/steer"
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
	// Now returns the time (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Controller owns the steering state. It implements publish.ServiceSink.
type Controller struct {
	opts    Options
	log     *slog.Logger
	checker *health.Checker
	cur     atomic.Pointer[steer.Snapshot]

	mu        sync.Mutex
	services  map[model.Name]*model.Service
	endpoints map[model.Name]map[string]*model.Endpoint
	compiled  map[model.Name]*steer.Service
	checked   map[model.Name]map[string]health.Target // each service's health targets
	parsed    map[string]steer.Target                 // endpoint addresses, parsed
	flat      map[model.Name]flatAddrs
	lapsed    map[string]bool // lease lapses already reported
	timer     *time.Timer
	afterFunc func(time.Duration, func()) *time.Timer // time.AfterFunc; tests replace it
	kick      chan struct{}                           // wakes the flattening loop
	changed   chan struct{}                           // closed and replaced at each new snapshot
}

var _ publish.ServiceSink = (*Controller)(nil)

// New returns a controller that feeds checker. Wire checker's OnChange to
// HealthChanged.
func New(checker *health.Checker, opts Options) *Controller {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.FlattenRefresh <= 0 {
		opts.FlattenRefresh = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{
		opts: opts, log: log, checker: checker,
		services:  map[model.Name]*model.Service{},
		endpoints: map[model.Name]map[string]*model.Endpoint{},
		compiled:  map[model.Name]*steer.Service{},
		checked:   map[model.Name]map[string]health.Target{},
		parsed:    map[string]steer.Target{},
		flat:      map[model.Name]flatAddrs{},
		lapsed:    map[string]bool{},
		afterFunc: time.AfterFunc,
		kick:      make(chan struct{}, 1),
		changed:   make(chan struct{}),
	}
	c.cur.Store(steer.NewSnapshot(nil, opts.Locator, opts.Latency))
	return c
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
	c.compiled = map[model.Name]*steer.Service{}
	c.checked = map[model.Name]map[string]health.Target{}
	c.parsed = map[string]steer.Target{}
	c.reconcile(nil)
}

// UpdateServices applies one revision's changes (publish.ServiceSink).
// Lease renewals change nothing an answer depends on, so they only update
// the endpoint's record: thousands of renewals a second cost no
// recompilation.
func (c *Controller) UpdateServices(u publish.ServiceUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dirty := map[model.Name]bool{}
	targets := false
	var overrides []overrideNote
	for _, n := range u.DeletedServices {
		delete(c.services, n)
		delete(c.endpoints, n)
		delete(c.compiled, n)
		dirty[n], targets = true, true
	}
	for _, s := range u.Services {
		if old := c.services[s.Name]; old != nil {
			overrides = c.notePoolOverrides(overrides, old, s)
		}
		c.services[s.Name] = s
		dirty[s.Name], targets = true, true
	}
	for _, r := range u.DeletedEndpoints {
		if m := c.endpoints[r.Service]; m != nil {
			delete(m, r.ID)
		}
		delete(c.lapsed, steer.Key(r.Service, r.ID))
		dirty[r.Service], targets = true, true
	}
	now := c.opts.Now()
	for _, e := range u.Endpoints {
		old := c.endpoints[e.Service][e.ID]
		if old != nil && !sameOverride(old.Override, e.Override) {
			overrides = c.noteOverride(overrides, e.Service, steer.Key(e.Service, e.ID), e.Override)
		}
		delete(c.lapsed, steer.Key(e.Service, e.ID))
		c.putEndpoint(e)
		if old == nil || !renewalOnly(old, e, now) {
			dirty[e.Service], targets = true, true
		}
	}
	if !targets && len(dirty) == 0 {
		return
	}
	names := make([]model.Name, 0, len(dirty))
	for n := range dirty {
		names = append(names, n)
	}
	if targets {
		c.reconcile(names)
	} else {
		c.rebuild(names)
	}
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

// HealthChanged recompiles every service after the checker reports a
// change (or a timer fires).
func (c *Controller) HealthChanged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rebuild(nil)
}

// reconcile updates the checker's targets of the named services (all of
// them for nil), wakes the flattener and recompiles them. Call with c.mu
// held.
func (c *Controller) reconcile(names []model.Name) {
	if c.checker != nil {
		if names == nil {
			c.checked = map[model.Name]map[string]health.Target{}
			var all []health.Target
			for n := range c.services {
				c.checked[n] = c.targets(n)
				for _, t := range c.checked[n] {
					all = append(all, t)
				}
			}
			c.checker.SetTargets(all)
		} else {
			var set []health.Target
			var remove []string
			for _, n := range names {
				old, cur := c.checked[n], c.targets(n)
				for k, t := range cur {
					if o, ok := old[k]; !ok || !sameTarget(o, t) {
						set = append(set, t)
					}
				}
				for k := range old {
					if _, ok := cur[k]; !ok {
						remove = append(remove, k)
					}
				}
				if len(cur) == 0 {
					delete(c.checked, n)
				} else {
					c.checked[n] = cur
				}
			}
			if len(set)+len(remove) > 0 {
				c.checker.UpdateTargets(set, remove)
			}
		}
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	c.rebuild(names)
}

// inputs is what compiling a service reads besides its definition and
// endpoints. Call with c.mu held.
func (c *Controller) inputs(now time.Time) steer.Inputs {
	in := steer.Inputs{Now: now, Flat: c.flatLookup, Parse: c.parse}
	if c.checker != nil {
		in.Health = c.health
	}
	return in
}

// sortedEndpoints returns a service's endpoints ordered by ID, as
// compiling takes them. Call with c.mu held.
func (c *Controller) sortedEndpoints(name model.Name) []*model.Endpoint {
	eps := make([]*model.Endpoint, 0, len(c.endpoints[name]))
	for _, e := range c.endpoints[name] {
		eps = append(eps, e)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].ID < eps[j].ID })
	return eps
}

// rebuild compiles the named services (every service for nil) and
// publishes the snapshot, then arms the timer for the next moment
// something changes by itself (a lease lapse, the end of a cold-start
// wait). Call with c.mu held.
func (c *Controller) rebuild(names []model.Name) {
	now := c.opts.Now()
	in := c.inputs(now)
	if names == nil {
		for n := range c.services {
			names = append(names, n)
		}
	}
	prev := make(map[model.Name]*steer.Service, len(names))
	for _, name := range names {
		prev[name] = c.compiled[name]
		spec := c.services[name]
		if spec == nil {
			delete(c.compiled, name)
			continue
		}
		s, err := steer.Compile(spec, c.sortedEndpoints(name), in)
		if err != nil {
			c.log.Error("cannot compile service", "service", name, "err", err)
			delete(c.compiled, name)
			continue
		}
		c.compiled[name] = s
	}
	all := make([]*steer.Service, 0, len(c.compiled))
	for _, s := range c.compiled {
		all = append(all, s)
	}
	c.cur.Store(steer.NewSnapshot(all, c.opts.Locator, c.opts.Latency))
	close(c.changed)
	c.changed = make(chan struct{})
	c.arm(now, in, prev)
}

// arm reports lapsed leases and sets the timer for the next lease lapse
// or cold-start wait end. prev holds the services as compiled before this
// rebuild, for the state a lapse ended. Call with c.mu held.
func (c *Controller) arm(now time.Time, in steer.Inputs, prev map[model.Name]*steer.Service) {
	next := time.Time{}
	soonest := func(t time.Time) {
		if !t.IsZero() && t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for name, spec := range c.services {
		for i := range spec.Pools {
			if o := spec.Pools[i].Override; o != nil {
				soonest(o.Expires) // the answers change when it ends
			}
		}
		for _, e := range c.endpoints[name] {
			if e.Override != nil {
				soonest(e.Override.Expires)
			}
			if e.Leased() {
				key := steer.Key(name, e.ID)
				if e.Lapsed(now) && !c.lapsed[key] {
					c.lapsed[key] = true
					before, ok := prev[name]
					if !ok {
						before = c.compiled[name]
					}
					old, _ := verdict(before, name, key)
					c.recordLapse(key, e, old)
				}
				soonest(e.Expires)
			}
			if spec.ColdStart.Mode == model.ColdWait {
				added := e.Created
				if in.Health != nil {
					if st, ok := in.Health(steer.Key(name, e.ID)); ok {
						added = st.Added
					}
				}
				soonest(steer.ColdUntil(spec, added))
			}
		}
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if !next.IsZero() {
		c.timer = c.afterFunc(next.Sub(now)+time.Millisecond, c.HealthChanged)
	}
}

// LapsedPending reports whether an endpoint whose lease lapsed is still
// in the store (the reaper has something to remove).
func (c *Controller) LapsedPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lapsed) > 0
}

// recordLapse logs a lease lapse: the endpoint leaves the answers (Down)
// from old, what answers made of it before.
func (c *Controller) recordLapse(key string, e *model.Endpoint, old health.State) {
	c.log.Info("endpoint lease lapsed", "service", e.Service, "endpoint", e.ID, "expired", e.Expires)
	if c.checker != nil {
		c.checker.Record(health.Event{Key: key, Old: old, New: health.Down, Actor: "lease",
			Reason: "lease of " + e.LeaseTTL.String() + " lapsed at " + e.Expires.UTC().Format(time.RFC3339Nano)})
	}
}

func sameOverride(a, b *model.Override) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.State == b.State && a.Actor == b.Actor && a.Time.Equal(b.Time)
}

// targets derives the health targets of one service's endpoints. Call
// with c.mu held.
func (c *Controller) targets(name model.Name) map[string]health.Target {
	spec := c.services[name]
	if spec == nil {
		return nil
	}
	now := c.opts.Now()
	out := map[string]health.Target{}
	for _, e := range c.endpoints[name] {
		p := spec.Pool(e.Pool)
		if p == nil || p.Check.Type == model.CheckNone || e.Lapsed(now) {
			continue
		}
		t := c.target(spec, p, e)
		out[t.Key] = t
	}
	return out
}

// sameTarget reports whether two targets check the same way.
func sameTarget(a, b health.Target) bool {
	return a.Host == b.Host && a.Port == b.Port && a.ServerName == b.ServerName && a.Damping == b.Damping &&
		reflect.DeepEqual(a.Check, b.Check)
}

// parse parses endpoint addresses through a cache (steer.Inputs.Parse).
// Call with c.mu held.
func (c *Controller) parse(addr string) (steer.Target, error) {
	if t, ok := c.parsed[addr]; ok {
		return t, nil
	}
	t, err := steer.ParseTarget(addr)
	if err != nil {
		return t, err
	}
	if len(c.parsed) > 1<<20 {
		c.parsed = map[string]steer.Target{} // bound the cache
	}
	c.parsed[addr] = t
	return t, nil
}

// target builds one endpoint's health target. Call with c.mu held.
func (c *Controller) target(s *model.Service, p *model.Pool, e *model.Endpoint) health.Target {
	t := health.Target{Key: steer.Key(s.Name, e.ID), Check: p.Check, Damping: s.Damping}
	host, port := e.Address, p.Check.Port
	if e.CheckTarget != "" {
		h, pt, err := net.SplitHostPort(e.CheckTarget)
		if err != nil {
			h = e.CheckTarget
		} else if n, err := strconv.Atoi(pt); err == nil {
			port = uint16(n)
		}
		host = h
	}
	if port == 0 {
		switch p.Check.Type {
		case model.CheckHTTP:
			port = 80
		case model.CheckHTTPS:
			port = 443
		case model.CheckDNS:
			port = 53
		}
	}
	t.Host, t.Port = host, port
	switch {
	case p.Check.Host != "":
		t.ServerName = p.Check.Host
	default:
		if tg, err := c.parse(e.Address); err == nil && tg.Host != "" {
			t.ServerName = string(tg.Host[:len(tg.Host)-1])
		}
	}
	return t
}

// Run resolves flattened hostnames until ctx is done.
func (c *Controller) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		c.flatten(ctx)
		select {
		case <-ctx.Done():
			c.mu.Lock()
			if c.timer != nil {
				c.timer.Stop()
			}
			c.mu.Unlock()
			return
		case <-tick.C:
		case <-c.kick:
		}
	}
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
// service steering does not know): steer.Service.AnsweredNow.
func (c *Controller) EndpointAnswers(svc model.Name) map[string]steer.Answered {
	s := c.cur.Load().Service(string(svc.Wire()))
	if s == nil {
		return nil
	}
	return s.AnsweredNow()
}

// Refresh recompiles from the checker's current statuses at once, without
// waiting for its change notification: a push report calls it so that the
// next query sees the report.
func (c *Controller) Refresh() { c.HealthChanged() }

// Explain evaluates a service for a client as a query would and says why.
func (c *Controller) Explain(name model.Name, qtype uint16, client netip.Addr, subnet netip.Prefix) (*steer.Explanation, bool) {
	return c.cur.Load().Explain(string(name.Wire()), qtype, client, subnet)
}

// health translates the checker's status for steering.
func (c *Controller) health(key string) (steer.Health, bool) {
	st, ok := c.checker.Status(key)
	if !ok {
		return steer.Health{}, false
	}
	h := steer.Health{Added: st.Added, HeldUntil: st.HeldUntil, LastError: st.LastError, RTT: st.RTT}
	switch st.State {
	case health.Up:
		h.State = steer.Up
	case health.Down:
		h.State = steer.Down
	}
	return h, true
}

// Status returns the checker's view of an endpoint.
func (c *Controller) Status(svc model.Name, id string) (health.Status, bool) {
	if c.checker == nil {
		return health.Status{}, false
	}
	return c.checker.Status(steer.Key(svc, id))
}
