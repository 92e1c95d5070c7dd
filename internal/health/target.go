package health

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Probes triggered by watched connections are rate limited: at most one
// per watch gap, which starts at the interval (but at least minWatchGap).
// Each such probe that succeeds (the endpoint closed an idle connection
// but is fine: it has a short idle timeout) doubles the gap, up to
// maxWatchBackoff intervals; one that fails resets it.
const (
	minWatchGap     = 100 * time.Millisecond
	maxWatchBackoff = 8
)

// target is one checked endpoint: its configuration, its goroutine and its
// state (see state.go for the state machine, damping.go for damping).
type target struct {
	c   *Checker
	key string

	// Written by newTarget and reconfigure, under mu, while no goroutine
	// of the target runs; read freely by the goroutine.
	tgt    Target
	spec   model.CheckSpec // normalized copy of tgt.Check
	prober prober          // nil for push and none, or a broken check
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended

	probing   atomic.Bool   // a probe is running: closes seen by watchers are its own
	watchKick chan struct{} // capacity 1: a watched connection was closed by the endpoint
	wake      chan struct{} // capacity 1: a deadline changed (push, damping)

	mu sync.Mutex
	st Status
	machineState
	damping
	pushDeadline time.Time // when a pushed state expires (Options.Clock); zero: none
}

func newTarget(c *Checker, tg Target) *target {
	now := c.now()
	t := &target{
		c:         c,
		key:       tg.Key,
		watchKick: make(chan struct{}, 1),
		wake:      make(chan struct{}, 1),
		st:        Status{State: Unknown, Added: now, Since: now},
	}
	t.mu.Lock()
	if err := t.configure(tg); err != nil {
		t.st.LastError = err.Error()
	}
	t.mu.Unlock()
	return t
}

// configure sets the target's check and prober. Called with mu held and
// no goroutine running. An error means the check cannot run: the target
// has no prober and stays Unknown.
func (t *target) configure(tg Target) error {
	t.tgt = tg
	t.spec = tg.Check
	t.spec.Normalize()
	t.damping.cfg = tg.Damping
	env := &probeEnv{
		target:     tg,
		spec:       t.spec,
		resolver:   t.c.opts.Resolver,
		ua:         t.c.opts.UserAgent,
		roots:      t.c.roots,
		idleClosed: t.idleClosed,
	}
	newP := newProber
	if t.c.proberFor != nil {
		newP = t.c.proberFor
	}
	p, err := newP(env)
	if err != nil {
		t.c.log.Error("health check cannot run", "key", t.key, "err", err)
		p = nil
	}
	t.prober = p
	t.st.Push = t.spec.Type == model.CheckPush
	return err
}

// probed reports whether a check type is run by probes.
func probed(typ string) bool {
	switch typ {
	case model.CheckHTTP, model.CheckHTTPS, model.CheckTCP, model.CheckDNS:
		return true
	}
	return false
}

// reconfigure gives a stopped target a new check. Between probed types the
// state is kept until the new check's first result, which decides at once
// (a hard failure of an Up target is confirmed first, as always); a push
// target keeps its pushed state; otherwise the target starts over from
// Unknown.
func (t *target) reconfigure(tg Target) {
	var ch changes
	t.mu.Lock()
	oldType := t.spec.Type
	err := t.configure(tg)
	now := t.c.now()
	switch {
	case err == nil && probed(oldType) && probed(t.spec.Type):
		t.machineState.restart()
	case err == nil && oldType == model.CheckPush && t.spec.Type == model.CheckPush:
		// The pushed state and its expiry stand; a new TTL applies from
		// the next push.
	default:
		old := t.st.State
		t.machineState = machineState{}
		t.damping = damping{cfg: tg.Damping}
		t.pushDeadline = time.Time{}
		t.st = Status{State: Unknown, Since: now, Added: t.st.Added, Push: t.spec.Type == model.CheckPush}
		if err != nil {
			t.st.LastError = err.Error()
		}
		if old != Unknown {
			t.event(&ch, now, old, Unknown, "check changed from "+oldType+" to "+t.spec.Type, ActorCheck)
		}
	}
	t.mu.Unlock()
	t.finish(&ch)
}

// start starts the target's goroutine (none: the target is Up at once).
func (t *target) start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.done = make(chan struct{})
	if t.spec.Type == model.CheckNone {
		close(t.done)
		t.setNone()
		return
	}
	go t.run(ctx)
}

// wait waits for the goroutine to end after cancel, then closes the
// prober's connections.
func (t *target) wait() {
	<-t.done
	if t.prober != nil {
		t.prober.close()
	}
}

func (t *target) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// idleClosed is called by watched connections that the endpoint closed.
func (t *target) idleClosed() {
	if t.probing.Load() {
		return // the running probe sees the failure itself
	}
	select {
	case t.watchKick <- struct{}{}:
	default:
	}
}

// poke wakes the goroutine to recompute its deadlines.
func (t *target) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// run is the target's goroutine: it probes every interval (the first time
// after a random delay), at once when a watched connection is closed by
// the endpoint (rate limited, see minWatchGap), and expires pushed states and
// hold-downs.
func (t *target) run(ctx context.Context) {
	defer close(t.done)
	interval := t.spec.Interval.D()
	baseGap := max(interval, minWatchGap)
	watchGap := baseGap
	var next, lastWatch time.Time // on Options.Clock
	if t.prober != nil {
		next = t.c.now().Add(t.c.firstDelay(interval))
	}
	timer := t.c.opts.Clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wake := next
		t.mu.Lock()
		for _, d := range []time.Time{t.holdEnd, t.pushDeadline} {
			if !d.IsZero() && (wake.IsZero() || d.Before(wake)) {
				wake = d
			}
		}
		t.mu.Unlock()
		var fire <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(t.c.until(wake))
			fire = timer.C()
		}
		watched := false
		select {
		case <-ctx.Done():
			return
		case <-fire:
		case <-t.wake:
		case <-t.watchKick:
			watched = true
		}
		now := t.c.now()
		t.expire(now)
		if t.prober == nil {
			continue
		}
		due := !now.Before(next)
		byWatch := false
		if watched && !due {
			if !lastWatch.IsZero() && now.Sub(lastWatch) < watchGap {
				continue // rate limit: the regular probe will come
			}
			lastWatch = now
			due, byWatch = true, true
		}
		if due {
			ok := t.cycle(ctx)
			next = now.Add(interval)
			switch {
			case !byWatch:
			case ok:
				watchGap = min(2*watchGap, maxWatchBackoff*baseGap)
			default:
				watchGap = baseGap
			}
		}
	}
}

// cycle runs a probe and, while hard failures of an Up target have not
// yet reached the fall threshold, confirms them at once. It reports
// whether the last probe succeeded.
func (t *target) cycle(ctx context.Context) (ok bool) {
	select {
	case <-t.watchKick: // this probe answers it
	default:
	}
	for {
		if !t.c.acquire(ctx.Done()) {
			return false
		}
		t.probing.Store(true)
		start, wall := t.c.now(), time.Now()
		r := t.probe(ctx)
		took := t.c.now().Sub(start)
		r.at = probeTimes{wall, time.Now()}
		t.probing.Store(false)
		t.c.release()
		if ctx.Err() != nil {
			return false // stopped: the result is the stop's doing
		}
		t.c.probes.Add(1)
		t.c.metrics.probed(t.spec.Type, r, took)
		if t.c.onProbe != nil {
			t.c.onProbe(t.key, r)
		}
		if !r.ok && t.c.log.Enabled(ctx, slog.LevelDebug) {
			t.c.log.Debug("health probe failed", "key", t.key, "err", r.err, "hard", r.hard)
		}
		if !t.apply(r) {
			return r.ok
		}
		t.c.metrics.confirming.Inc() // the next probe confirms this failure
	}
}

// probe runs one probe. A probe that panics is a failed probe (not a hard
// one): the panic is logged with its stack and counted
// (stratus_panics_recovered_total{component="health"}), and the target
// goes on probing at its interval.
func (t *target) probe(ctx context.Context) (r result) {
	defer func() {
		if v := recover(); v != nil {
			telemetry.Panicked(t.c.log.With("key", t.key), "health", v, debug.Stack())
			r = result{err: fmt.Sprintf("the probe failed: panic: %v", v)}
		}
	}()
	return t.prober.probe(ctx)
}

// sameSpec reports whether two checks are equal.
func sameSpec(a, b *model.CheckSpec) bool {
	if !maps.Equal(a.Headers, b.Headers) || !slices.Equal(a.ExpectStatus, b.ExpectStatus) {
		return false
	}
	if (a.TLSVerify == nil) != (b.TLSVerify == nil) || (a.TLSVerify != nil && *a.TLSVerify != *b.TLSVerify) {
		return false
	}
	return sameScalars(*a, *b)
}

// sameScalars compares the checks' other fields.
func sameScalars(x, y model.CheckSpec) bool {
	x.Headers, y.Headers, x.ExpectStatus, y.ExpectStatus, x.TLSVerify, y.TLSVerify = nil, nil, nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}
