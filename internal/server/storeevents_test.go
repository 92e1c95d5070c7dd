package server

import (
	"errors"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/publish"
)

type recorded []health.Event

func (r *recorded) Record(ev health.Event) { *r = append(*r, ev) }

// TestStoreEvents: losing the store and having it back are node events
// with the outage's error, the revision served and how long it lasted.
func TestStoreEvents(t *testing.T) {
	var got recorded
	fn := storeEvents("ns1", &got)
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	fn(publish.StoreState{Unreachable: true, Since: at, Err: errors.New("etcd did not answer"), Revision: 42})
	fn(publish.StoreState{Since: at.Add(12500 * time.Millisecond), Revision: 42})
	want := []health.Event{
		{Time: at, Key: "node:ns1", Actor: "store", Reason: "store unreachable (etcd did not answer); DNS answers from the snapshot at revision 42, API writes fail with 503"},
		{Time: at.Add(12500 * time.Millisecond), Key: "node:ns1", Actor: "store", Reason: "store reachable again after 12.5s"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
