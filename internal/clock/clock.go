package clock

import "time"

// Clock is a source of the time and of timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel after d.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine after d. The timer's channel
	// is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer of a Clock, with the semantics of time.Timer since Go
// 1.23: after Reset or Stop returns, no stale value is received from C.
type Timer interface {
	// C is the channel the time is sent on; nil for AfterFunc timers.
	C() <-chan time.Time
	// Reset arms the timer to fire after d. It reports whether the timer
	// was armed.
	Reset(d time.Duration) bool
	// Stop disarms the timer. It reports whether the timer was armed.
	Stop() bool
}

// Real returns the system's clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
func (r realTimer) Stop() bool                 { return r.t.Stop() }

// Since returns the time elapsed since t on c.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }
