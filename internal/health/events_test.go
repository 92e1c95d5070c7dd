package health

import (
	"fmt"
	"testing"
	"time"
)

func seqs(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func TestEventsBoundedAndPaged(t *testing.T) {
	c := newChecker(t, Options{EventLimit: 5})
	if got := c.Events(0, 0); len(got) != 0 {
		t.Fatalf("events of an empty log: %v", got)
	}
	for i := range 12 {
		c.Record(Event{Key: "k", Seq: 999, Reason: string(rune('a' + i)), Actor: "operator"})
	}
	tests := []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 0, []uint64{8, 9, 10, 11, 12}},
		{0, 2, []uint64{8, 9}},
		{3, 2, []uint64{8, 9}},
		{9, 0, []uint64{10, 11, 12}},
		{9, 2, []uint64{10, 11}},
		{11, 10, []uint64{12}},
		{12, 0, []uint64{}},
		{100, 0, []uint64{}},
	}
	for _, tt := range tests {
		got := seqs(c.Events(tt.after, tt.limit))
		if len(got) != len(tt.want) {
			t.Errorf("Events(%d, %d) = %v, want %v", tt.after, tt.limit, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Events(%d, %d) = %v, want %v", tt.after, tt.limit, got, tt.want)
				break
			}
		}
	}
	// Paging through everything kept, two at a time.
	var all []uint64
	for after := uint64(0); ; {
		page := c.Events(after, 2)
		if len(page) == 0 {
			break
		}
		all = append(all, seqs(page)...)
		after = page[len(page)-1].Seq
	}
	if len(all) != 5 || all[0] != 8 || all[4] != 12 {
		t.Errorf("paged %v", all)
	}
	evs := c.Events(0, 0)
	if evs[0].Reason != "h" || evs[0].Time.IsZero() {
		t.Errorf("oldest kept event %+v, want reason h and a time", evs[0])
	}
}

func TestRecordKeepsTime(t *testing.T) {
	c := newChecker(t, Options{})
	at := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	c.Record(Event{Key: "k", Time: at, Actor: "lease", Reason: "lease lapsed"})
	c.Record(Event{Key: "k", Actor: "lease"})
	evs := c.Events(0, 0)
	if !evs[0].Time.Equal(at) || evs[1].Time.IsZero() || evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("events %+v", evs)
	}
}

// TestRestoreEvents: events kept from an earlier run are returned as they
// were, gaps in their numbers included, and the next event follows the
// last; the newest EventLimit are kept; a log with events refuses them.
func TestRestoreEvents(t *testing.T) {
	c := newChecker(t, Options{EventLimit: 4})
	var old []Event
	for _, seq := range []uint64{3, 4, 5, 7, 8} {
		old = append(old, Event{Seq: seq, Key: "k", Actor: "check", Reason: fmt.Sprint("before ", seq)})
	}
	if !c.RestoreEvents(old) {
		t.Fatal("an empty log refused restored events")
	}
	select {
	case <-c.EventsAdded():
		t.Error("restoring signalled new events")
	default:
	}
	c.Record(Event{Key: "k", Actor: "operator", Reason: "after"})
	select {
	case <-c.EventsAdded():
	default:
		t.Error("a new event was not signalled")
	}
	tests := []struct {
		after uint64
		want  []uint64
	}{
		{0, []uint64{5, 7, 8, 9}},
		{5, []uint64{7, 8, 9}},
		{6, []uint64{7, 8, 9}},
		{8, []uint64{9}},
		{9, nil},
	}
	for _, tt := range tests {
		if got := seqs(c.Events(tt.after, 0)); fmt.Sprint(got) != fmt.Sprint(tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Events(%d) = %v, want %v", tt.after, got, tt.want)
		}
	}
	if evs := c.Events(8, 0); evs[0].Reason != "after" {
		t.Errorf("event 9: %+v", evs[0])
	}
	if c.RestoreEvents(old) {
		t.Error("a log with events took restored ones")
	}
}
