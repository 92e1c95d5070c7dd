package alert

import "time"

// Kind is what an alert is about.
type Kind string

// The kinds of alert.
const (
	FailoverStarted  Kind = "failover_started"  // a service's answers left its first tier
	FailoverEnded    Kind = "failover_ended"    // a service's answers are back on its first tier
	EndpointDown     Kind = "endpoint_down"     // an endpoint's health went down
	EndpointUp       Kind = "endpoint_up"       // an endpoint's health came back up
	LeaseLapsed      Kind = "lease_lapsed"      // an endpoint's registration lease lapsed
	AllDownEngaged   Kind = "all_down_engaged"  // a service has no healthy endpoint; its when_all_down policy answers
	DrillFailed      Kind = "drill_failed"      // a drill run ended with a failed verdict
	SecondaryExpired Kind = "secondary_expired" // a secondary zone passed its SOA expire without a primary
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{FailoverStarted, FailoverEnded, EndpointDown, EndpointUp, LeaseLapsed, AllDownEngaged, DrillFailed, SecondaryExpired}

// Event is one alert.
type Event struct {
	Kind Kind
	Time time.Time
	// The objects it is about; those that do not apply are empty.
	Service  string
	Pool     string
	Endpoint string
	Zone     string
	Drill    string
	// Summary is one line for a person.
	Summary string
	// Details are further facts, such as the pool answered from before
	// and after a failover.
	Details map[string]string
}

// Sink takes alerts. Emit must not block.
type Sink interface {
	Emit(Event)
}

// Discard is a Sink that drops every alert.
var Discard Sink = discard{}

type discard struct{}

func (discard) Emit(Event) {}
