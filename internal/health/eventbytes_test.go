package health

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stratusdns/stratus/internal/model"
)

// maximalEvent is as large as an event can come: a key of the longest
// service name and endpoint id, a reason and an actor past their limits.
func maximalEvent(i int) Event {
	key := strings.Repeat("s", 253) + "/" + strings.Repeat("e", model.MaxEndpointIDLen)
	return Event{Key: key, Old: Up, New: Down, Reason: strings.Repeat("r", 64<<10) + string(rune('a'+i%26)), Actor: strings.Repeat("a", 4096)}
}

// TestEventsBoundedByBytes: 10,000 maximal events stay within the
// default byte budget; the newest are kept, in order, the newest always.
func TestEventsBoundedByBytes(t *testing.T) {
	c := newChecker(t, Options{})
	for i := range DefaultEventLimit {
		c.Record(maximalEvent(i))
	}
	evs := c.Events(0, 0)
	if len(evs) == 0 {
		t.Fatal("no events kept")
	}
	total := 0
	for i, ev := range evs {
		total += eventSize(&ev)
		if i > 0 && ev.Seq != evs[i-1].Seq+1 {
			t.Fatalf("events %d and %d are not consecutive", evs[i-1].Seq, ev.Seq)
		}
		if len(ev.Reason) > MaxEventText || len(ev.Actor) > MaxEventText || !utf8.ValidString(ev.Reason) {
			t.Fatalf("event %d keeps a reason of %d bytes, an actor of %d", ev.Seq, len(ev.Reason), len(ev.Actor))
		}
	}
	if evs[len(evs)-1].Seq != DefaultEventLimit {
		t.Errorf("newest kept is %d, want %d", evs[len(evs)-1].Seq, DefaultEventLimit)
	}
	if total > DefaultEventBytes {
		t.Errorf("%d events keep %d bytes, over the budget of %d", len(evs), total, DefaultEventBytes)
	}
	t.Logf("%d maximal events kept in %d bytes", len(evs), total)

	// A small budget keeps as many as fit, and at least the newest.
	small := newChecker(t, Options{EventBytes: 1})
	for i := range 3 {
		small.Record(maximalEvent(i))
	}
	if got := seqs(small.Events(0, 0)); len(got) != 1 || got[0] != 3 {
		t.Errorf("a 1-byte budget keeps %v, want [3]", got)
	}
}

// TestRestoreBoundedByBytes: restored events are held to the budget too.
func TestRestoreBoundedByBytes(t *testing.T) {
	c := newChecker(t, Options{EventBytes: 3 * eventSize(&Event{Key: "k", Reason: "r"})})
	var evs []Event
	for i := range 10 {
		evs = append(evs, Event{Seq: uint64(i + 1), Key: "k", Reason: "r"})
	}
	c.RestoreEvents(evs)
	if got := seqs(c.Events(0, 0)); len(got) != 3 || got[0] != 8 {
		t.Errorf("restored %v, want [8 9 10]", got)
	}
	c.Record(Event{Key: "k", Reason: "r"})
	if got := seqs(c.Events(0, 0)); len(got) != 3 || got[0] != 9 || got[2] != 11 {
		t.Errorf("after one more %v, want [9 10 11]", got)
	}
}

// TestPushReasonClipped: the checker keeps a pushed reason to
// model.MaxReasonLen bytes without control characters, whoever calls.
func TestPushReasonClipped(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{pushTarget("p", 0)})
	if err := c.Push("p", false, "a\nb\x1b"+strings.Repeat("é", 4<<20)); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Status("p")
	if len(st.LastError) > model.MaxReasonLen || !strings.HasPrefix(st.LastError, "abé") || !utf8.ValidString(st.LastError) {
		t.Errorf("last error of %d bytes: %.20q", len(st.LastError), st.LastError)
	}
	evs := eventsOf(c, "p")
	if len(evs) != 1 || len(evs[0].Reason) > model.MaxReasonLen+len("push: ") {
		t.Errorf("event reason of %d bytes", len(evs[0].Reason))
	}
}
