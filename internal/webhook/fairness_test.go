package webhook

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/control"
)

// A receiver that hangs does not hold up the other webhooks: with a
// backlog of deliveries to it in the outbox, an alert for another
// webhook is delivered while the hanging receiver's attempts are still
// waiting for their timeout.
func TestHangingReceiverDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	hold := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}
	dead := newReceiver(t, hold)
	live := newReceiver(t, status(204))
	t.Cleanup(func() { close(release) })
	e := newEnv(t, true, func(o *Options) { o.Timeout = time.Minute })
	e.hook(t, control.Webhook{Name: "dead", URL: dead.URL, Services: []string{"a.example."}})
	e.hook(t, control.Webhook{Name: "live", URL: live.URL, Services: []string{"b.example."}})
	for i := range 2 * maxInFlight {
		e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "a.example.", Endpoint: fmt.Sprint(i)})
	}
	waitFor(t, "the backlog to be written", func() bool { return len(e.outbox(t)) == 2*maxInFlight })
	e.d.Emit(alert.Event{Kind: alert.FailoverStarted, Service: "b.example."})
	waitFor(t, "the other webhook's alert to be delivered", func() bool { return len(live.requests()) == 1 })
}
