package steerctl

import (
	"strings"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// verdict returns what a compiled service makes of an endpoint
// ("<service>|<id>") or pool ("<service>|pool:<name>"), and why: Up or
// Down, or Unknown when s is nil or does not have it.
func verdict(s *steer.CompiledService, svc model.Name, key string) (health.State, string) {
	if s == nil {
		return health.Unknown, ""
	}
	state := func(up bool) health.State {
		if up {
			return health.Up
		}
		return health.Down
	}
	if pool, ok := strings.CutPrefix(key, string(svc)+"|pool:"); ok {
		for _, p := range s.Pools {
			if p.Spec.Name == pool {
				return state(p.Up), p.Why
			}
		}
		return health.Unknown, ""
	}
	for i := range s.Endpoints {
		if s.Endpoints[i].Key == key {
			return state(s.Endpoints[i].Up), s.Endpoints[i].Why
		}
	}
	return health.Unknown, ""
}

// overrideNote is an override set or cleared, with what answers made of
// its endpoint or pool before: logged once the change is compiled, so the
// event states the transition that took place.
type overrideNote struct {
	svc    model.Name
	key    string
	pool   bool
	o      *model.Override
	old    health.State
	oldWhy string
}

// noteOverride notes an override change of an endpoint or pool. Call with
// c.mu held, before recompiling.
func (c *Controller) noteOverride(notes []overrideNote, svc model.Name, key string, o *model.Override) []overrideNote {
	if c.checker == nil || o == nil {
		return notes
	}
	old, why := verdict(c.compiled[svc], svc, key)
	return append(notes, overrideNote{svc: svc, key: key, pool: strings.HasPrefix(key, string(svc)+"|pool:"), o: o, old: old, oldWhy: why})
}

// notePoolOverrides notes the pool overrides that differ between two
// versions of a service.
func (c *Controller) notePoolOverrides(notes []overrideNote, old, cur *model.Service) []overrideNote {
	for i := range cur.Pools {
		p := &cur.Pools[i]
		if op := old.Pool(p.Name); op != nil && !sameOverride(op.Override, p.Override) {
			notes = c.noteOverride(notes, cur.Name, string(cur.Name)+"|pool:"+p.Name, p.Override)
		}
	}
	return notes
}

// recordOverrides logs the noted override changes with the states they
// led to. Call with c.mu held, after recompiling.
func (c *Controller) recordOverrides(notes []overrideNote) {
	for _, n := range notes {
		now, why := verdict(c.compiled[n.svc], n.svc, n.key)
		c.checker.Record(health.Event{Key: n.key, Actor: n.o.Actor, Old: n.old, New: now, Reason: overrideReason(n, now, why)})
	}
}

// overrideReason says what an override change was and, where the state
// stayed as it was, that nothing changed and why: a drain of a pool that
// was down already, or a clearing that leaves its checks saying down.
func overrideReason(n overrideNote, now health.State, why string) string {
	var b strings.Builder
	switch {
	case n.o.State == "down" && n.pool:
		b.WriteString("drained")
	case n.o.State == "down":
		b.WriteString("forced down")
	case n.o.State == "up":
		b.WriteString("forced up")
	default:
		b.WriteString("override cleared")
	}
	if n.o.Reason != "" {
		b.WriteString(": " + n.o.Reason)
	}
	what := "endpoint"
	if n.pool {
		what = "pool"
	}
	switch {
	case n.o.State == "":
		b.WriteString("; the checks decide again: " + now.String())
		if why != "" {
			b.WriteString(" (" + why + ")")
		}
	case now == n.old:
		b.WriteString("; the " + what + " was " + now.String() + " already")
		if n.oldWhy != "" {
			b.WriteString(" (" + n.oldWhy + ")")
		}
	}
	return b.String()
}
