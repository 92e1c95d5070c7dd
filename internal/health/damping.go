package health

import (
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// damping holds a flapping target down. Every change of the checked state
// between Up and Down is a flap (the first result, from Unknown, is not).
// When a flap makes the flaps within Window more than Flaps, the target is
// held Down until HoldDown after the latest flap: flaps during the hold
// extend it. When the hold ends the effective state is the checked state
// of that moment. Flaps stay counted for their Window after a hold, so a
// target that keeps flapping is held again at its next flap.
//
// Times are on Options.Clock, as is Status.HeldUntil, what callers see.
type damping struct {
	cfg     model.Damping
	flaps   []time.Time // recent flaps, oldest first, at most cfg.Flaps+1
	holdEnd time.Time   // zero when not held
}

// holdChange says what a flap did to the hold.
type holdChange uint8

const (
	holdNone     holdChange = iota
	holdStarted             // the target is now held down
	holdExtended            // the hold was running and now ends later
)

func (d *damping) held() bool { return !d.holdEnd.IsZero() }

// flap counts a flap at time at and starts or extends the hold.
func (d *damping) flap(at time.Time) holdChange {
	if d.cfg.Flaps <= 0 {
		d.flaps = d.flaps[:0]
		return holdNone
	}
	cutoff := at.Add(-d.cfg.Window.D())
	i := 0
	for i < len(d.flaps) && !d.flaps[i].After(cutoff) {
		i++
	}
	d.flaps = append(d.flaps[:0], d.flaps[i:]...)
	d.flaps = append(d.flaps, at)
	if extra := len(d.flaps) - (d.cfg.Flaps + 1); extra > 0 {
		d.flaps = append(d.flaps[:0], d.flaps[extra:]...)
	}
	if len(d.flaps) <= d.cfg.Flaps {
		return holdNone
	}
	change := holdExtended
	if !d.held() {
		change = holdStarted
	}
	d.holdEnd = at.Add(d.cfg.HoldDown.D())
	return change
}

// release ends the hold.
func (d *damping) release() { d.holdEnd = time.Time{} }

// holdReason says why a hold started.
func (d *damping) holdReason() string {
	return fmt.Sprintf("flapping: %d state changes within %v (more than %d): held down for %v",
		len(d.flaps), d.cfg.Window.D(), d.cfg.Flaps, d.cfg.HoldDown.D())
}

// setDamping changes a target's damping without restarting it. Turning
// damping off ends a running hold at the next wake-up.
func (t *target) setDamping(cfg model.Damping) {
	t.mu.Lock()
	t.tgt.Damping = cfg
	t.damping.cfg = cfg
	if cfg.Flaps <= 0 && t.held() {
		t.holdEnd = t.c.now() // released by the goroutine now
	}
	t.mu.Unlock()
	t.poke()
}
