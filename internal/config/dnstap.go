package config

import (
	"fmt"
	"net/netip"
)

// Dnstap configures dnstap output of queries and responses: off by
// default, on when socket or tcp names a collector (README.md,
// "dnstap").
type Dnstap struct {
	// Socket is the path of a collector's unix socket; TCP the ip:port
	// of a collector. Give one, or neither (off).
	Socket string `yaml:"socket"`
	TCP    string `yaml:"tcp"`
	// Identity and Version are sent in every message (defaults: the
	// host name and this build's version).
	Identity string `yaml:"identity"`
	Version  string `yaml:"version"`
	// QueueSize bounds the messages waiting for the collector; more are
	// dropped and counted (default 4096).
	QueueSize int `yaml:"queue_size"`
	// Messages lists the message types sent: auth_query, auth_response
	// (default both).
	Messages []string `yaml:"messages"`
}

// Dnstap defaults and bounds.
const (
	DefaultDnstapQueueSize = 4096
	MaxDnstapQueueSize     = 1 << 20
)

// On reports whether dnstap is on.
func (d *Dnstap) On() bool { return d.Socket != "" || d.TCP != "" }

// Queue returns queue_size with its default.
func (d *Dnstap) Queue() int {
	if d.QueueSize == 0 {
		return DefaultDnstapQueueSize
	}
	return d.QueueSize
}

// Sends reports which messages are sent (Validate first).
func (d *Dnstap) Sends() (query, response bool) {
	if len(d.Messages) == 0 {
		return true, true
	}
	for _, m := range d.Messages {
		switch m {
		case "auth_query":
			query = true
		case "auth_response":
			response = true
		}
	}
	return query, response
}

func (d *Dnstap) check() error {
	if d.Socket != "" && d.TCP != "" {
		return fmt.Errorf("dnstap: give socket or tcp, not both")
	}
	if d.TCP != "" {
		if _, err := netip.ParseAddrPort(d.TCP); err != nil {
			return fmt.Errorf("dnstap.tcp: %q is not ip:port (%v)", d.TCP, err)
		}
	}
	if d.QueueSize < 0 || d.QueueSize > MaxDnstapQueueSize {
		return fmt.Errorf("dnstap.queue_size: %d is outside 0..%d", d.QueueSize, MaxDnstapQueueSize)
	}
	for i, m := range d.Messages {
		switch m {
		case "auth_query", "auth_response":
		default:
			return fmt.Errorf("dnstap.messages[%d]: %q is not auth_query or auth_response", i, m)
		}
	}
	return nil
}
