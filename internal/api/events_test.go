package api

import (
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestEventJSON: an event claims a change of state only when there was
// one.
func TestEventJSON(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		ev   health.Event
		want apiv1.Event
	}{
		{health.Event{Seq: 1, Time: at, Key: "a.example.|e1", Old: health.Up, New: health.Down, Reason: "2 consecutive failures", Actor: "check"},
			apiv1.Event{Seq: 1, Time: at, Service: "a.example.", Endpoint: "e1", Old: "up", New: "down", Reason: "2 consecutive failures", Actor: "check"}},
		{health.Event{Seq: 2, Time: at, Key: "a.example.|pool:p", Old: health.Down, New: health.Down, Reason: "drained; the pool was down already", Actor: "alice"},
			apiv1.Event{Seq: 2, Time: at, Service: "a.example.", Pool: "p", Reason: "drained; the pool was down already", Actor: "alice"}},
		{health.Event{Seq: 3, Time: at, Key: "a.example.|e1", Old: health.Down, New: health.Down, Reason: "flapping", Actor: "damping"},
			apiv1.Event{Seq: 3, Time: at, Service: "a.example.", Endpoint: "e1", Reason: "flapping", Actor: "damping"}},
		{health.Event{Seq: 4, Time: at, Key: "a.example.|e1", Old: health.Unknown, New: health.Up, Reason: "first check succeeded", Actor: "check"},
			apiv1.Event{Seq: 4, Time: at, Service: "a.example.", Endpoint: "e1", Old: "unknown", New: "up", Reason: "first check succeeded", Actor: "check"}},
		{health.Event{Seq: 5, Time: at, Key: "node:b", Reason: "this node sees every endpoint down (3 of 3) while the other nodes see them up; its votes are ignored", Actor: "quorum"},
			apiv1.Event{Seq: 5, Time: at, Node: "b", Reason: "this node sees every endpoint down (3 of 3) while the other nodes see them up; its votes are ignored", Actor: "quorum"}},
		{health.Event{Seq: 6, Time: at, Key: "zone:example.com.", Reason: "random-subdomain flood: 5000 NXDOMAIN answers a second", Actor: "anomaly"},
			apiv1.Event{Seq: 6, Time: at, Zone: "example.com.", Reason: "random-subdomain flood: 5000 NXDOMAIN answers a second", Actor: "anomaly"}},
		{health.Event{Seq: 7, Time: at, Key: "name:www.example.com.", Reason: "query spike ended", Actor: "anomaly"},
			apiv1.Event{Seq: 7, Time: at, Name: "www.example.com.", Reason: "query spike ended", Actor: "anomaly"}},
	}
	for _, tt := range tests {
		if got := eventJSON(tt.ev); got != tt.want {
			t.Errorf("event %d: %+v, want %+v", tt.ev.Seq, got, tt.want)
		}
	}
}
