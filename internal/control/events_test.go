package control

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

func openBolt(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func storedEvents(from, to uint64, reason string) []StoredEvent {
	var out []StoredEvent
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for seq := from; seq <= to; seq++ {
		out = append(out, StoredEvent{Seq: seq, Time: at.Add(time.Duration(seq) * time.Second), Key: "api.example.com.|e1",
			Old: "up", New: "down", Reason: reason, Actor: "check"})
	}
	return out
}

func eventSeqs(evs []StoredEvent) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, ev.Seq)
	}
	return b.String()
}

// TestEventLogSurvivesReopen: events appended are there, whole, when the
// store is opened again, and the log appends after them.
func TestEventLogSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stratus.db")
	st := openBolt(t, path)
	l, kept, err := OpenEventLog(ctx, st, EventLimits{}, nil)
	if err != nil || len(kept) != 0 || l.Last() != 0 {
		t.Fatalf("a new store: %v events, last %d, err %v", len(kept), l.Last(), err)
	}
	if err := l.Append(ctx, storedEvents(1, 3, "first")); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(ctx, storedEvents(4, 5, "second")); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openBolt(t, path)
	defer st.Close()
	l, kept, err = OpenEventLog(ctx, st, EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventSeqs(kept); got != "1 2 3 4 5" || l.Last() != 5 {
		t.Fatalf("after reopening: events %s, last %d", got, l.Last())
	}
	if want := storedEvents(4, 4, "second")[0]; kept[3] != want {
		t.Errorf("event 4 after reopening: %+v, want %+v", kept[3], want)
	}
	if err := l.Append(ctx, storedEvents(6, 6, "third")); err != nil {
		t.Fatal(err)
	}
	if _, kept, _ = OpenEventLog(ctx, st, EventLimits{}, nil); eventSeqs(kept) != "1 2 3 4 5 6" {
		t.Errorf("after one more: %s", eventSeqs(kept))
	}
}

// TestEventLogBounds: the oldest events go beyond the count and beyond
// the bytes, in the transaction that adds the new ones.
func TestEventLogBounds(t *testing.T) {
	ctx := context.Background()
	size := func() int { // the stored size of one test event
		st := openBolt(t, filepath.Join(t.TempDir(), "size.db"))
		defer st.Close()
		l, _, _ := OpenEventLog(ctx, st, EventLimits{}, nil)
		l.Append(ctx, storedEvents(1, 1, "x"))
		return l.bytes
	}()
	tests := []struct {
		name    string
		lim     EventLimits
		batches [][2]uint64
		want    string
	}{
		{"count", EventLimits{Count: 3}, [][2]uint64{{1, 2}, {3, 4}, {5, 5}}, "3 4 5"},
		{"count, one big batch", EventLimits{Count: 3}, [][2]uint64{{1, 10}}, "8 9 10"},
		{"bytes", EventLimits{Bytes: 4*size + size/2}, [][2]uint64{{1, 3}, {4, 6}}, "3 4 5 6"},
		{"both: bytes first", EventLimits{Count: 5, Bytes: 2 * size}, [][2]uint64{{1, 4}}, "3 4"},
		{"both: count first", EventLimits{Count: 2, Bytes: 10 * size}, [][2]uint64{{1, 4}}, "3 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stratus.db")
			st := openBolt(t, path)
			l, _, _ := OpenEventLog(ctx, st, tt.lim, nil)
			for _, b := range tt.batches {
				if err := l.Append(ctx, storedEvents(b[0], b[1], "x")); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			st.View(ctx, func(tx store.ReadTx) error {
				n, _ = tx.Count(schema.PrefixEvents)
				return nil
			})
			st.Close()
			st = openBolt(t, path)
			defer st.Close()
			_, kept, err := OpenEventLog(ctx, st, tt.lim, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := eventSeqs(kept); got != tt.want || n != len(kept) {
				t.Errorf("kept %s (%d keys), want %s", got, n, tt.want)
			}
		})
	}
}

// TestEventLogRefusesBadEvents: a batch with a bad event fails with an
// error naming it and writes nothing.
func TestEventLogRefusesBadEvents(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t, filepath.Join(t.TempDir(), "stratus.db"))
	defer st.Close()
	l, _, _ := OpenEventLog(ctx, st, EventLimits{Bytes: 1000}, nil)
	if err := l.Append(ctx, storedEvents(1, 2, "x")); err != nil {
		t.Fatal(err)
	}
	long := storedEvents(4, 4, strings.Repeat("x", 1000))
	noKey := storedEvents(4, 4, "x")
	noKey[0].Key = ""
	tests := []struct {
		name string
		evs  []StoredEvent
		want string
	}{
		{"not after the last kept", append(storedEvents(3, 3, "x"), storedEvents(2, 2, "x")...), "events[1].seq: 2 does not follow 3"},
		{"the last kept again", storedEvents(2, 3, "x"), "events[0].seq: 2 does not follow 2"},
		{"no key", append(storedEvents(3, 3, "x"), noKey...), "events[1].key: missing"},
		{"too big", append(storedEvents(3, 3, "x"), long...), "events[1]: "},
	}
	for _, tt := range tests {
		err := l.Append(ctx, tt.evs)
		var fe *model.Error
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want a field error %q", tt.name, err, tt.want)
		}
	}
	if _, kept, _ := OpenEventLog(ctx, st, EventLimits{}, nil); eventSeqs(kept) != "1 2" || l.Last() != 2 {
		t.Errorf("after refused batches: %s, last %d", eventSeqs(kept), l.Last())
	}
}

// TestEventLogNodesShareStore: two nodes of a cluster keep their events
// in one store; each numbers its own from 1, and neither loses an event
// to the other nor finds the other's among its own. A node's log in the
// layout of one node sees none of them.
func TestEventLogNodesShareStore(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t, filepath.Join(t.TempDir(), "stratus.db"))
	defer st.Close()
	a, _, err := OpenNodeEventLog(ctx, st, "a", EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := OpenNodeEventLog(ctx, st, "b", EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		l        *EventLog
		from, to uint64
		reason   string
	}{{a, 1, 2, "a"}, {b, 1, 3, "b"}, {a, 3, 4, "a"}, {b, 4, 4, "b"}} {
		if err := step.l.Append(ctx, storedEvents(step.from, step.to, step.reason)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	for _, node := range []string{"a", "b"} {
		_, kept, err := OpenNodeEventLog(ctx, st, node, EventLimits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := eventSeqs(kept); got != "1 2 3 4" {
			t.Errorf("node %s after reopening: events %s, want 1 2 3 4", node, got)
		}
		for _, ev := range kept {
			if ev.Reason != node {
				t.Errorf("node %s keeps event %d of %q", node, ev.Seq, ev.Reason)
			}
		}
	}
	_, kept, err := OpenEventLog(ctx, st, EventLimits{}, nil)
	if err != nil || len(kept) != 0 {
		t.Errorf("the one-node log sees %d events (%v), want none", len(kept), err)
	}
}

// TestEventLogMaximalEventsWithinBytes: 10,000 events as large as the
// health checker makes them (its MaxEventText reason and actor, the
// longest key) keep within the default byte budget in the store, the
// newest kept.
func TestEventLogMaximalEventsWithinBytes(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "s.db"))
	l, _, err := OpenEventLog(context.Background(), st, EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("s", 253) + "|" + strings.Repeat("e", model.MaxEndpointIDLen)
	reason := strings.Repeat("\x01", 1024) // escaped as \u0001 in JSON: six times as long
	actor := strings.Repeat("a", 1024)
	const batch = 500
	for from := uint64(1); from <= DefaultEventCount; from += batch {
		evs := storedEvents(from, from+batch-1, reason)
		for i := range evs {
			evs[i].Key, evs[i].Actor = key, actor
		}
		if err := l.Append(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	if l.bytes > DefaultEventBytes {
		t.Errorf("kept %d bytes, over the budget of %d", l.bytes, DefaultEventBytes)
	}
	_, kept, err := OpenEventLog(context.Background(), st, EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) == 0 || kept[len(kept)-1].Seq != DefaultEventCount {
		t.Fatalf("kept %d events, the newest not among them", len(kept))
	}
	total := 0
	if err := st.View(context.Background(), func(tx store.ReadTx) error {
		return tx.Scan(schema.EventPrefix(""), "", func(_ string, v []byte) error { total += len(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if total > DefaultEventBytes {
		t.Errorf("the store holds %d bytes of events, over the budget of %d", total, DefaultEventBytes)
	}
	t.Logf("%d maximal events kept in %d bytes", len(kept), total)
}
