package health

import (
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// machineState is the threshold machine: it turns raw results into the
// checked state. The first result decides at once; after that it takes
// Rise consecutive successes to go from Down to Up and Fall consecutive
// failures to go from Up to Down. The effective state is the checked
// state unless damping holds the target down.
//
// Successes count toward Rise only when they are checks an interval
// apart (riseSpacing): a probe that hung while the endpoint was frozen
// and the scheduled probe just after it, or a probe a watched connection
// triggered, are two results within moments of each other, which show
// nothing of the endpoint staying up. A success that comes too soon
// neither counts nor breaks the run. Failures count as they come, so an
// immediate re-probe still confirms a failure at once.
type machineState struct {
	machine State     // the checked state, before damping
	fresh   bool      // the next result decides at once (after a check change)
	succ    int       // consecutive successes, counted at the interval
	succAt  time.Time // when the latest counted success came
	fail    int       // consecutive failures
}

// riseSpacing is how far apart, at least, successes must come to count
// toward Rise: three quarters of the interval, which leaves room for
// response times that vary from one probe to the next while two checks
// an interval apart always qualify.
func riseSpacing(interval time.Duration) time.Duration { return interval * 3 / 4 }

// restart makes the next result decide at once, keeping the state until
// then.
func (m *machineState) restart() {
	m.fresh = true
	m.succ, m.fail = 0, 0
}

// changes collects what a transition did, to log and report once the
// target's lock is released.
type changes struct {
	events []Event
	notify bool
	// The probe that made the change, if one did (for its span).
	probe    *probeTimes
	probeOK  bool
	probeErr string
}

// effective is the state callers see. Called with mu held.
func (t *target) effective() State {
	if t.held() {
		return Down
	}
	return t.machine
}

// event appends an event to the checker's log (under mu, so that a
// target's events keep their order) and marks the change for OnChange.
func (t *target) event(ch *changes, now time.Time, old, new State, reason, actor string) {
	ev := t.c.events.add(Event{Time: now, Key: t.key, Old: old, New: new, Reason: reason, Actor: actor})
	ch.events = append(ch.events, ev)
	ch.notify = true
}

// finish logs the events of a transition and calls for OnChange. Called
// without mu.
func (t *target) finish(ch *changes) {
	for _, ev := range ch.events {
		t.c.log.Info("health state changed", "key", ev.Key, "old", ev.Old.String(), "new", ev.New.String(),
			"reason", ev.Reason, "actor", ev.Actor, "seq", ev.Seq)
	}
	if ch.notify {
		t.c.changed(t.key, t.traceChange(ch))
	}
}

// setMachine moves the checked state to s, counts a flap for damping, and
// updates the effective state with an event when it changes. Called with
// mu held.
func (t *target) setMachine(ch *changes, now time.Time, s State, reason, actor string) {
	old := t.machine
	if old == s {
		return
	}
	oldEff := t.effective()
	t.machine = s
	var hold holdChange
	if old != Unknown && s != Unknown {
		hold = t.flap(now)
	}
	if hold != holdNone {
		t.st.HeldUntil = now.Add(t.damping.cfg.HoldDown.D())
		ch.notify = true
	}
	if eff := t.effective(); eff != oldEff {
		t.st.State, t.st.Since = eff, now
		t.event(ch, now, oldEff, eff, reason, actor)
		t.c.metrics.transition(eff)
	}
	if hold == holdStarted {
		t.c.metrics.holddowns.Inc()
		t.event(ch, now, Down, Down, t.holdReason(), ActorDamping)
	}
}

// apply records a probe's result and runs the threshold machine. It
// reports whether the result should be confirmed by an immediate re-probe:
// a hard failure of an Up target short of the fall threshold.
func (t *target) apply(r result) (again bool) {
	ch := changes{probe: &r.at, probeOK: r.ok, probeErr: r.err}
	now := t.c.now()
	t.mu.Lock()
	t.st.LastCheck, t.st.LastOK, t.st.LastError = now, r.ok, r.err
	if r.ok {
		t.st.RTT = r.rtt
		if t.succ == 0 || now.Sub(t.succAt) >= riseSpacing(t.spec.Interval.D()) {
			t.succ++
			t.succAt = now
		}
		t.fail = 0
	} else {
		t.fail++
		t.succ = 0
	}
	rise, fall := t.spec.Rise, t.spec.Fall
	switch {
	case t.machine == Unknown, t.fresh && !(t.machine == Up && r.hard):
		t.fresh = false
		if r.ok {
			t.setMachine(&ch, now, Up, "first check succeeded", ActorCheck)
		} else {
			t.setMachine(&ch, now, Down, "first check failed: "+r.err, ActorCheck)
		}
	case t.machine == Down && r.ok && t.succ >= rise:
		t.setMachine(&ch, now, Up, fmt.Sprintf("%d consecutive %s", t.succ, plural(t.succ, "success", "successes")), ActorCheck)
	case t.machine == Up && !r.ok && t.fail >= fall:
		t.setMachine(&ch, now, Down, fmt.Sprintf("%d consecutive %s: %s", t.fail, plural(t.fail, "failure", "failures"), r.err), ActorCheck)
	}
	again = !r.ok && r.hard && t.machine == Up && t.fail < fall
	t.mu.Unlock()
	t.finish(&ch)
	return again
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// push records a pushed report: it sets the checked state directly and
// arms the expiry.
func (t *target) push(up bool, reason string) error {
	var ch changes
	now := t.c.now()
	t.mu.Lock()
	if t.spec.Type != model.CheckPush {
		typ := t.spec.Type
		t.mu.Unlock()
		return fmt.Errorf("push for %q: the target is checked by %s, not push", t.key, typ)
	}
	s, word := Down, "down"
	if up {
		s, word = Up, "up"
	}
	if reason == "" {
		reason = word
	}
	t.st.LastCheck, t.st.LastOK, t.st.LastError = now, up, ""
	if !up {
		t.st.LastError = reason
	}
	t.pushDeadline = now.Add(t.spec.PushTTL.D())
	t.setMachine(&ch, now, s, "push: "+reason, ActorPush)
	t.mu.Unlock()
	t.poke()
	t.finish(&ch)
	return nil
}

// expire ends what has run out by time at (Options.Clock): a pushed
// state (the target goes Down) and a hold-down.
func (t *target) expire(at time.Time) {
	var ch changes
	now := t.c.now()
	t.mu.Lock()
	if !t.pushDeadline.IsZero() && !at.Before(t.pushDeadline) {
		t.pushDeadline = time.Time{}
		t.st.LastOK, t.st.LastError = false, "push report expired"
		t.setMachine(&ch, now, Down, "push report expired", ActorPush)
	}
	if t.held() && !at.Before(t.holdEnd) {
		t.release()
		t.st.HeldUntil = time.Time{}
		eff := t.effective()
		if eff != Down {
			t.st.State, t.st.Since = eff, now
			t.c.metrics.transition(eff)
		}
		t.event(&ch, now, Down, eff, "hold-down ended", ActorDamping)
	}
	t.mu.Unlock()
	t.finish(&ch)
}

// setNone makes a target of type none Up.
func (t *target) setNone() {
	var ch changes
	now := t.c.now()
	t.mu.Lock()
	t.setMachine(&ch, now, Up, "not checked (type none)", ActorCheck)
	t.mu.Unlock()
	t.finish(&ch)
}
