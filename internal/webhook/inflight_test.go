package webhook

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/control"
)

// While as many attempts as may run at once are held by a slow receiver
// and more deliveries are due, the leader waits for an attempt to end:
// it does not loop (each turn of its loop arms its timer once).
func TestInFlightFullDoesNotSpin(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 64)
	hold := func(w http.ResponseWriter, r *http.Request) {
		held <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}
	rc := newReceiver(t, hold)
	t.Cleanup(func() { close(release) })
	e := newEnv(t, true, func(o *Options) { o.Timeout = time.Minute })
	hooks := maxInFlight/maxPerHook + 1 // more than the slots can serve at once
	for i := range hooks {
		e.hook(t, control.Webhook{Name: fmt.Sprint("ops", i), URL: rc.URL})
	}
	for i := range maxInFlight + 4 {
		e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com.", Endpoint: fmt.Sprint(i)})
	}
	waitFor(t, "the outbox to fill", func() bool { return len(e.outbox(t)) == hooks*(maxInFlight+4) })
	for range maxInFlight {
		<-held
	}
	// Every attempt that may run is held; the leader has nothing to do
	// until one ends. Give it a second of real time to show it idles.
	start := e.clk.Arms()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if n := e.clk.Arms() - start; n > 1000 {
			t.Fatalf("the leader armed its timer %d times while every attempt was held: it spins", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
