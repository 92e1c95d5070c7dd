package steerctl

import (
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// ActorSteering is the actor of the events steering logs of its own
// accord: failovers starting and ending.
const ActorSteering = "steering"

// watched is what the controller last saw of a compiled service, to
// tell failovers and endpoint health changes as they happen. It
// outlives the compiled services (a reset compiles everything anew).
type watched struct {
	// seen: every checked endpoint of the service's first tier has had
	// a check result; until then tier and failover mean nothing.
	seen     bool
	tier     steer.Tier
	failover bool // a failover started and has not ended
	health   map[string]steer.HealthState
}

// watch compares a service just compiled with what was seen of it and
// emits the alerts, events and metrics of what changed: its endpoints'
// checked health going down or up, and its answers leaving or coming
// back to the first tier (a failover) or falling to its when_all_down
// policy.
//
// A service counts as seen once every checked endpoint of its first
// tier has a check result (not its cold start's guess). That first
// sight says nothing, but sets what is seen: a service already
// answering from a lower tier or its when_all_down policy then is in a
// failover (a node restarted, or a new leader took over, in the middle
// of one), whose end is alerted. Likewise an endpoint's first check
// result is no alert: only a change between two results is. Call with
// c.mu held.
func (c *Controller) watch(name model.Name, s *steer.CompiledService, now time.Time) {
	if s == nil {
		if _, ok := c.watched[name]; ok {
			delete(c.watched, name)
			c.metrics.forgetService(name)
		}
		return
	}
	svc := name.String()
	w, ok := c.watched[name]
	if !ok {
		w = &watched{}
		c.watched[name] = w
	}
	hs := make(map[string]steer.HealthState, len(s.Endpoints))
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		st := e.Health.State
		hs[e.Key] = st
		old := w.health[e.Key]
		switch {
		case old == steer.Unknown || st == steer.Unknown || old == st:
		case st == steer.Down:
			c.emit(alert.Event{Kind: alert.EndpointDown, Time: now, Service: svc, Pool: e.Spec.Pool, Endpoint: e.Spec.ID,
				Summary: fmt.Sprintf("%s: endpoint %s (pool %s) is down: %s", svc, e.Spec.ID, e.Spec.Pool, e.Why),
				Details: map[string]string{"address": e.Spec.Address, "reason": e.Why}})
		case st == steer.Up:
			c.emit(alert.Event{Kind: alert.EndpointUp, Time: now, Service: svc, Pool: e.Spec.Pool, Endpoint: e.Spec.ID,
				Summary: fmt.Sprintf("%s: endpoint %s (pool %s) is up again: %s", svc, e.Spec.ID, e.Spec.Pool, e.Why),
				Details: map[string]string{"address": e.Spec.Address, "reason": e.Why}})
		}
	}
	w.health = hs

	defer func() {
		c.metrics.active.WithLabelValues(svc).Set(map[bool]float64{true: 1}[w.failover])
		// Both counters exist from the service's first compile, at 0,
		// so that increase() over them sees its first failover.
		c.metrics.started.WithLabelValues(svc)
		c.metrics.ended.WithLabelValues(svc)
	}()
	t := s.Tier()
	if !w.seen {
		if !s.Settled() {
			return
		}
		w.seen, w.tier = true, t
		w.failover = t.Reason != steer.ReasonHealthy
		return
	}
	old := w.tier
	w.tier = t
	if old.Reason == t.Reason {
		return
	}
	details := func() map[string]string { // each alert its own
		return map[string]string{"from_pool": old.Pool, "to_pool": t.Pool, "reason": t.Why}
	}
	switch {
	case old.Reason == steer.ReasonHealthy:
		w.failover = true
		c.metrics.started.WithLabelValues(svc).Inc()
		summary := fmt.Sprintf("%s: failover from pool %s to %s: %s", svc, old.Pool, answeredFrom(s, t), t.Why)
		c.emit(alert.Event{Kind: alert.FailoverStarted, Time: now, Service: svc, Pool: t.Pool, Summary: summary, Details: details()})
		c.recordFailover(name, t.First, "failover started: answers moved from pool "+old.Pool+" to "+answeredFrom(s, t)+" ("+t.Why+")")
	case t.Reason == steer.ReasonHealthy:
		summary := fmt.Sprintf("%s: answers are back on pool %s", svc, t.Pool)
		if w.failover {
			w.failover = false
			c.metrics.ended.WithLabelValues(svc).Inc()
			c.emit(alert.Event{Kind: alert.FailoverEnded, Time: now, Service: svc, Pool: t.Pool, Summary: summary, Details: details()})
		}
		c.recordFailover(name, t.First, "failover ended: answers are back on pool "+t.Pool+" ("+t.Why+")")
	default:
		c.recordFailover(name, t.First, "answers moved from "+answeredFrom(s, old)+" to "+answeredFrom(s, t)+" ("+t.Why+")")
	}
	if t.Reason == steer.ReasonAllDown {
		d := details()
		d["policy"] = s.Spec.WhenAllDown.Mode
		c.emit(alert.Event{Kind: alert.AllDownEngaged, Time: now, Service: svc, Pool: t.Pool,
			Summary: fmt.Sprintf("%s: no endpoint is answerable: answering %s", svc, answeredFrom(s, t)), Details: d})
	}
}

// answeredFrom names where a tier's answers come from: a pool, or the
// when_all_down policy.
func answeredFrom(s *steer.CompiledService, t steer.Tier) string {
	if t.Reason != steer.ReasonAllDown {
		return t.Pool
	}
	what := "its when_all_down policy (" + string(s.Spec.WhenAllDown.Mode)
	if t.Pool != "" {
		what += ", pool " + t.Pool
	}
	return what + ")"
}

// recordFailover logs a change of where a service's answers come from
// in the health event log, under the first pool of its first tier.
func (c *Controller) recordFailover(name model.Name, pool, reason string) {
	if c.checker == nil {
		return
	}
	c.checker.Record(health.Event{Key: string(name) + "|pool:" + pool, Old: health.Unknown, New: health.Unknown, Actor: ActorSteering, Reason: reason})
}

// emit hands an alert to Options.Alerts.
func (c *Controller) emit(ev alert.Event) { c.opts.Alerts.Emit(ev) }
