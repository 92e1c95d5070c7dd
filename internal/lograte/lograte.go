package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
)

// Defaults: ten lines of a kind every ten seconds.
const (
	DefaultBurst    = 10
	DefaultInterval = 10 * time.Second
)

// maxKinds bounds the kinds a Limiter keeps; kinds are the messages of the
// code that calls it, so this is never reached unless a message is built
// from input, which it must not be. Beyond it, a new kind is logged
// without a limit rather than dropped unseen.
const maxKinds = 1024

// Limiter writes at most Burst lines of each kind per Interval to its
// logger. It is safe for concurrent use.
type Limiter struct {
	log      *slog.Logger
	burst    int
	interval time.Duration
	clock    clock.Clock

	mu    sync.Mutex
	kinds map[string]*window
}

// window is one kind's count in the current interval.
type window struct {
	start      time.Time
	lines      int // written since start
	suppressed int // dropped since the last suppressed-count line
	level      slog.Level
}

// New returns a limiter writing to log, at most burst lines of a kind per
// interval (zero or less: the defaults), timed by c (nil: the system's
// clock).
func New(log *slog.Logger, burst int, interval time.Duration, c clock.Clock) *Limiter {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	if c == nil {
		c = clock.Real()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{log: log, burst: burst, interval: interval, clock: c, kinds: map[string]*window{}}
}

// Info logs msg at level INFO, unless the kind msg already used its lines
// in this interval.
func (l *Limiter) Info(msg string, args ...any) { l.Log(slog.LevelInfo, msg, args...) }

// Warn logs msg at level WARN, unless the kind msg already used its lines
// in this interval.
func (l *Limiter) Warn(msg string, args ...any) { l.Log(slog.LevelWarn, msg, args...) }

// Log logs msg at level, unless the kind msg already used its lines in
// this interval. Before the first line of a kind in a new interval it
// writes how many lines of the kind were suppressed, if any.
func (l *Limiter) Log(level slog.Level, msg string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	report, ok := l.allow(level, msg)
	if report > 0 {
		l.suppressedLine(level, msg, report)
	}
	if ok {
		l.log.Log(context.Background(), level, msg, args...)
	}
}

// allow counts a line of kind msg and reports whether it is to be
// written, and how many lines of the kind were suppressed before it
// that are to be reported first (zero: none).
func (l *Limiter) allow(level slog.Level, msg string) (report int, ok bool) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.kinds[msg]
	if w == nil {
		if len(l.kinds) >= maxKinds {
			return 0, true
		}
		w = &window{start: now}
		l.kinds[msg] = w
	}
	w.level = level
	if now.Sub(w.start) >= l.interval {
		report, w.suppressed = w.suppressed, 0
		w.start, w.lines = now, 0
	}
	if w.lines >= l.burst {
		w.suppressed++
		return report, false
	}
	w.lines++
	return report, true
}

// Logger returns a logger whose lines go through l, the message of each
// being its kind: for code that takes a *slog.Logger.
func (l *Limiter) Logger() *slog.Logger {
	return slog.New(&handler{l: l, h: l.log.Handler()})
}

// handler is the slog.Handler of Logger.
type handler struct {
	l *Limiter
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.h.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	report, ok := h.l.allow(r.Level, r.Message)
	if report > 0 {
		c := slog.NewRecord(r.Time, r.Level, "log lines suppressed", r.PC)
		c.AddAttrs(slog.String("kind", r.Message), slog.Int("suppressed", report), slog.Duration("interval", h.l.interval))
		if err := h.h.Handle(ctx, c); err != nil {
			return err
		}
	}
	if !ok {
		return nil
	}
	return h.h.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{l: h.l, h: h.h.WithAttrs(as)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{l: h.l, h: h.h.WithGroup(name)}
}

// Flush writes the suppressed-count line of every kind whose interval has
// ended, so that a flood that stopped is still reported. Call it now and
// then (a server calls it from a ticker); lines of a kind logged later
// report their own count anyway.
func (l *Limiter) Flush() {
	now := l.clock.Now()
	type pending struct {
		msg   string
		n     int
		level slog.Level
	}
	var out []pending
	l.mu.Lock()
	for msg, w := range l.kinds {
		if now.Sub(w.start) < l.interval {
			continue
		}
		if w.suppressed > 0 {
			out = append(out, pending{msg, w.suppressed, w.level})
		}
		delete(l.kinds, msg) // a quiet kind starts afresh
	}
	l.mu.Unlock()
	for _, p := range out {
		l.suppressedLine(p.level, p.msg, p.n)
	}
}

// Run calls Flush every interval until ctx is done.
func (l *Limiter) Run(ctx context.Context) {
	t := l.clock.NewTimer(l.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			l.Flush()
			t.Reset(l.interval)
		}
	}
}

func (l *Limiter) suppressedLine(level slog.Level, msg string, n int) {
	l.log.Log(context.Background(), level, "log lines suppressed", "kind", msg, "suppressed", n, "interval", l.interval)
}
