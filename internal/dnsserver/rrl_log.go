package dnsserver

import (
	"context"
	"log/slog"
	"net/netip"
	"time"
)

// The query path never logs: a bucket that limits sends a note (at most
// one a second per bucket, dropped when the queue is full) and rrlLog,
// on a goroutine of its own, turns the notes into a line when a client
// network starts being limited and one when it stops, itself limited.
const (
	// rrlLogInterval: at most one line per client network per interval
	// says it is limited; more episodes are counted in the next line.
	rrlLogInterval = time.Minute
	// rrlLogLines bounds the "limiting" lines of all networks per
	// interval; more are counted in one summary line.
	rrlLogLines = 20
	// rrlQuiet: a network none of whose buckets has limited for this
	// long is no longer limited (a limiting bucket sends a note every
	// second).
	rrlQuiet = 3 * time.Second
	// rrlMaxTracked bounds the networks followed at once; more are
	// counted, not followed.
	rrlMaxTracked = 4096
)

// rrlEpisode is a network being limited.
type rrlEpisode struct {
	since, last int64
	classes     uint32 // bit per rrlClass
	logged      bool
}

// rrlPrefixLog is when a network's last "limiting" line was written and
// how many of its episodes went without one since.
type rrlPrefixLog struct {
	at         int64
	suppressed int
}

type rrlLog struct {
	log       *slog.Logger
	active    map[netip.Prefix]*rrlEpisode
	lines     map[netip.Prefix]*rrlPrefixLog
	period    int64 // start of the current interval
	budget    int   // lines left in it
	skipped   int   // episodes without a line for lack of budget or room
	untracked int
}

func newRRLLog(log *slog.Logger) *rrlLog {
	return &rrlLog{log: log, active: map[netip.Prefix]*rrlEpisode{}, lines: map[netip.Prefix]*rrlPrefixLog{}, budget: rrlLogLines}
}

// note takes one note from the query path.
func (l *rrlLog) note(n rrlNote) {
	ep := l.active[n.prefix]
	if ep == nil {
		if len(l.active) >= rrlMaxTracked {
			l.untracked++
			return
		}
		ep = &rrlEpisode{since: n.at}
		l.active[n.prefix] = ep
		l.start(n, ep)
	}
	ep.last = max(ep.last, n.at)
	ep.classes |= 1 << n.class
}

// start writes the "limiting" line of an episode unless the network had
// one in the last interval or the interval's lines are spent.
func (l *rrlLog) start(n rrlNote, ep *rrlEpisode) {
	pl := l.lines[n.prefix]
	switch {
	case pl != nil && n.at-pl.at < int64(rrlLogInterval):
		pl.suppressed++
		return
	case l.budget == 0 || pl == nil && len(l.lines) >= rrlMaxTracked:
		l.skipped++
		return
	}
	suppressed := 0
	if pl == nil {
		pl = &rrlPrefixLog{}
		l.lines[n.prefix] = pl
	}
	suppressed, pl.at, pl.suppressed = pl.suppressed, n.at, 0
	l.budget--
	ep.logged = true
	l.log.Warn("rrl: limiting responses to client network", "network", n.prefix.String(), "class", n.class.String(),
		"episodes_not_logged", suppressed)
}

// tick ends the episodes of networks that stopped being limited and, once
// an interval is over, reports what went without a line.
func (l *rrlLog) tick(now int64) {
	for p, ep := range l.active {
		if now-ep.last < int64(rrlQuiet) {
			continue
		}
		delete(l.active, p)
		if ep.logged {
			l.log.Info("rrl: stopped limiting client network", "network", p.String(), "classes", rrlClassList(ep.classes),
				"limited_for", time.Duration(ep.last-ep.since).Round(time.Second).String())
		}
	}
	if now-l.period < int64(rrlLogInterval) {
		return
	}
	l.period, l.budget = now, rrlLogLines
	for p, pl := range l.lines {
		if now-pl.at >= int64(rrlLogInterval) {
			l.skipped += pl.suppressed
			delete(l.lines, p)
		}
	}
	if l.skipped > 0 || l.untracked > 0 {
		l.log.Warn("rrl: more client networks limited, lines suppressed", "episodes", l.skipped, "notes_untracked", l.untracked)
		l.skipped, l.untracked = 0, 0
	}
}

func rrlClassList(bits uint32) []string {
	var out []string
	for c := rrlPositive; c <= rrlError; c++ {
		if bits&(1<<c) != 0 {
			out = append(out, c.String())
		}
	}
	return out
}

// logRRL follows the limiter's notes until ctx ends.
func (s *Server) logRRL(ctx context.Context) {
	l := newRRLLog(s.log)
	clk := s.rrl.cfg.Clock
	t := clk.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-s.rrl.notes:
			l.note(n)
		case <-t.C():
			l.tick(s.rrl.now())
			t.Reset(time.Second)
		}
	}
}

// RRLStats returns what response rate limiting did so far (all zero when
// it is disabled).
func (s *Server) RRLStats() RRLStats {
	if s.rrl == nil {
		return RRLStats{}
	}
	return s.rrl.stats()
}
