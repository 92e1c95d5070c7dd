package health

import (
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// State is an endpoint's health as the checker sees it.
type State uint8

const (
	// Unknown: no check result yet. What it counts as is the service's
	// cold-start choice, applied by the steering layer.
	Unknown State = iota
	// Up: the endpoint passes its check.
	Up
	// Down: the endpoint fails its check, its pushed report lapsed, or
	// damping holds it down.
	Down
)

// String returns "up", "down" or "unknown".
func (s State) String() string {
	switch s {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return "unknown"
}

// ParseState returns the state String names ("up", "down"); anything
// else is Unknown.
func ParseState(s string) State {
	switch s {
	case "up":
		return Up
	case "down":
		return Down
	}
	return Unknown
}

// Target is one endpoint to check, as the control plane derives it from
// the endpoint, its pool's check and its service.
type Target struct {
	// Key identifies the target: "<service>|<endpoint id>".
	Key string
	// Check is the pool's normalized check.
	Check model.CheckSpec
	// Host is what is probed: an IP address or a hostname (resolved by the
	// checker before each connection).
	Host string
	// Port is the port probed (the check's, the check target's, or the
	// type's default: 80, 443, 53).
	Port uint16
	// ServerName is the HTTP Host header and TLS SNI: the endpoint's
	// hostname, or the check's host, or empty for an address.
	ServerName string
	// Damping bounds flapping (zero Flaps disables it).
	Damping model.Damping
}

// Status is a target's current health.
type Status struct {
	// State is the effective state: after rise/fall thresholds, damping
	// and push expiry.
	State State
	// Since is when State last changed (or when the target was added).
	Since time.Time
	// Added is when the checker started checking the target.
	Added time.Time
	// LastCheck, LastOK and LastError describe the latest probe.
	LastCheck time.Time
	LastOK    bool
	LastError string
	// RTT is the duration of the latest successful probe.
	RTT time.Duration
	// HeldUntil is set while damping holds the target down.
	HeldUntil time.Time
	// Push is set for a push target: its state is the latest report,
	// not what probes found.
	Push bool
	// View says whose view State is, when other nodes' verdicts went
	// into it ("2 of 3 nodes see it down (b, c)"); empty when it is this
	// node's own (see internal/healthview). The checker leaves it empty.
	View string
}

// Event is one change of a target's effective state, or another
// noteworthy thing that happened to it (hold-down, lease lapse, override).
type Event struct {
	Seq    uint64
	Time   time.Time
	Key    string
	Old    State
	New    State
	Reason string
	Actor  string // "check", "push", "damping", "lease", or an operator
}
