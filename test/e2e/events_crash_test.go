package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestEventsSurviveCrash: health events are kept in the store. After the
// server is killed with SIGKILL and started again on its data, `stratus
// events` shows the events from before the crash, and new events are
// numbered after them.
func TestEventsSurviveCrash(t *testing.T) {
	t.Parallel()
	const svc = "ev.fn.example.com"
	dataDir := t.TempDir()
	s := steerStart(t, dataDir, "")
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"ev.fn.example.com","pools":[{"name":"a","priority":1}]}`)
	steerEndpoint(t, s, svc, "e1", `{"pool":"a","address":"127.0.0.21"}`)
	steerMustCLI(t, s, "endpoint", "override", svc, "e1", "down", "--reason", "before the crash")

	// Wait until the override's event is kept in the store.
	var before apiv1.EventList
	var forced apiv1.Event
	steerWait(t, 10*time.Second, "the override event to be stored", func() (bool, string) {
		steerGetJSON(t, s, "/v1/events?service="+svc, &before)
		ev, ok := steerFindEvent(before.Events, "e1", func(e apiv1.Event) bool { return e.Reason == "forced down: before the crash" })
		forced = ev
		return ok && before.Stored >= ev.Seq, fmt.Sprintf("%+v", before)
	})
	s.signal(syscall.SIGKILL)
	<-s.exited

	s = steerStart(t, dataDir, "")
	out := steerMustCLI(t, s, "events", "--service", svc)
	if !steerHasLine(out, fmt.Sprint(forced.Seq), "e1", "up -> down", "admin", "forced down: before the crash") {
		t.Errorf("stratus events after the crash does not show event %d:\n%s", forced.Seq, out)
	}
	var after apiv1.EventList
	steerGetJSON(t, s, "/v1/events?service="+svc, &after)
	if len(after.Events) < len(before.Events) {
		t.Fatalf("%d events after the crash, %d before", len(after.Events), len(before.Events))
	}
	for i, ev := range before.Events {
		if got := after.Events[i]; got.Seq != ev.Seq || got.Reason != ev.Reason || !got.Time.Equal(ev.Time) {
			t.Errorf("event %d after the crash: %+v, before: %+v", i, got, ev)
		}
	}
	steerMustCLI(t, s, "endpoint", "override", svc, "e1", "clear")
	cleared := steerWaitEvent(t, s, svc, "e1", 10*time.Second, "the override cleared event", func(e apiv1.Event) bool {
		return strings.HasPrefix(e.Reason, "override cleared")
	})
	if cleared.Seq <= forced.Seq {
		t.Errorf("the first event after the restart has seq %d, not after %d", cleared.Seq, forced.Seq)
	}
	if cleared.Old != "down" || cleared.New != "up" {
		t.Errorf("override cleared event %+v, want down -> up", cleared)
	}
}
