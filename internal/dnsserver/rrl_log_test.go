package dnsserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps log records as "message key=value..." lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func TestRRLLog(t *testing.T) {
	rec := &recorder{}
	l := newRRLLog(slog.New(rec))
	sec := int64(time.Second)
	netA := netip.MustParsePrefix("192.0.2.0/24")
	netB := netip.MustParsePrefix("2001:db8::/56")
	check := func(step string, want ...string) {
		t.Helper()
		got := rec.take()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: got\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// A network starts being limited: one line, however many notes.
	for i := range int64(5) {
		l.note(rrlNote{prefix: netA, class: rrlPositive, at: 10*sec + i*sec})
		l.note(rrlNote{prefix: netA, class: rrlNXDomain, at: 10*sec + i*sec})
		l.tick(10*sec + i*sec)
	}
	check("start", "rrl: limiting responses to client network network=192.0.2.0/24 class=positive episodes_not_logged=0")
	// Quiet for rrlQuiet: it stopped.
	l.tick(14*sec + int64(rrlQuiet))
	check("stop", "rrl: stopped limiting client network network=192.0.2.0/24 classes=[positive nxdomain] limited_for=4s")

	// Two more episodes within the interval: no line, counted in the
	// next one once the interval is over.
	for _, at := range []int64{20, 30} {
		l.note(rrlNote{prefix: netA, class: rrlError, at: at * sec})
		l.tick(at*sec + int64(rrlQuiet))
	}
	check("suppressed")
	at := 10*sec + int64(rrlLogInterval)
	l.note(rrlNote{prefix: netA, class: rrlError, at: at})
	l.note(rrlNote{prefix: netB, class: rrlWildcard, at: at})
	check("next interval",
		"rrl: limiting responses to client network network=192.0.2.0/24 class=error episodes_not_logged=2",
		"rrl: limiting responses to client network network=2001:db8::/56 class=wildcard episodes_not_logged=0")
	l.tick(at + int64(rrlQuiet))
	rec.take()

	// Many networks at once: rrlLogLines lines, then one summary when
	// the interval is over.
	base := at + 10*sec
	l.tick(base + int64(rrlLogInterval)) // a new interval
	rec.take()
	base += int64(rrlLogInterval)
	for i := range 100 {
		l.note(rrlNote{prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 24), class: rrlPositive, at: base})
	}
	if got := len(rec.take()); got != rrlLogLines {
		t.Fatalf("%d lines for 100 networks, want %d", got, rrlLogLines)
	}
	l.tick(base + int64(rrlLogInterval))
	got := rec.take()
	if want := "rrl: more client networks limited, lines suppressed episodes=80 notes_untracked=0"; len(got) != rrlLogLines+1 || got[len(got)-1] != want {
		t.Fatalf("summary: got %q, want %d stop lines and %q", got, rrlLogLines, want)
	}
	if len(l.active) != 0 {
		t.Fatalf("%d networks still followed", len(l.active))
	}
}
