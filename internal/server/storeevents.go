package server

import (
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/publish"
)

// ActorStore is the actor of the events that say the node lost its store
// or has it back.
const ActorStore = "store"

// storeEvents returns the publisher's OnReach: each time the node loses
// its store or has it back, it logs an event about the node (key
// "node:<name>", as `stratus events` shows node events), so the outage is
// in the event history next to what the endpoints did meanwhile.
func storeEvents(node string, rec interface{ Record(health.Event) }) func(publish.StoreState) {
	var down time.Time
	return func(st publish.StoreState) {
		ev := health.Event{Time: st.Since, Key: "node:" + node, Actor: ActorStore}
		if st.Unreachable {
			down = st.Since
			ev.Reason = fmt.Sprintf("store unreachable (%v); DNS answers from the snapshot at revision %d, API writes fail with 503", st.Err, st.Revision)
		} else {
			ev.Reason = "store reachable again"
			if !down.IsZero() {
				ev.Reason += fmt.Sprintf(" after %v", st.Since.Sub(down).Round(time.Millisecond))
			}
		}
		rec.Record(ev)
	}
}
