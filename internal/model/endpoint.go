package model

import (
	"net"
	"regexp"
	"strconv"
	"time"
)

// Endpoint is one answer a service can give: an address or a hostname
// (a function URL's host, say), in one pool. Registered endpoints hold a
// lease: they drop out of answers when it lapses unless renewed.
type Endpoint struct {
	Service Name   `json:"service"`
	ID      string `json:"id"`
	Pool    string `json:"pool"`
	Address string `json:"address"` // IP address or hostname answered
	Weight  uint32 `json:"weight"`  // share within the pool for weighted policies

	// CheckTarget, when set, is probed instead of Address: "host",
	// "host:port" or "[v6]:port".
	CheckTarget string `json:"check_target,omitempty"`

	LeaseTTL Duration  `json:"lease_ttl,omitempty"` // zero: a static endpoint
	Expires  time.Time `json:"expires,omitempty"`   // when the lease lapses
	Override *Override `json:"override,omitempty"`

	Created time.Time `json:"created"`
	Renewed time.Time `json:"renewed"`
}

// Lease bounds.
const (
	MinLeaseTTL = time.Second
	MaxLeaseTTL = 24 * time.Hour
)

var endpointIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// Normalize fills defaults in place.
func (e *Endpoint) Normalize() {
	if e.Weight == 0 {
		e.Weight = 1
	}
}

// Validate checks an endpoint against its service.
func (e *Endpoint) Validate(s *Service) error {
	if err := checkWord("id", e.ID, MaxEndpointIDLen); err != nil {
		return err
	}
	if !endpointIDRE.MatchString(e.ID) {
		return Errorf("id", "%q is not an endpoint id (1-128 letters, digits, . _ : -)", e.ID)
	}
	if err := checkWord("pool", e.Pool, MaxPoolNameLen); err != nil {
		return err
	}
	if s.Pool(e.Pool) == nil {
		return Errorf("pool", "service %s has no pool %q", s.Name, e.Pool)
	}
	if err := checkWord("address", e.Address, MaxAddressLen); err != nil {
		return err
	}
	if _, err := ParseTarget(e.Address); err != nil {
		return Errorf("address", "%v", err)
	}
	if e.CheckTarget != "" {
		if err := checkWord("check_target", e.CheckTarget, MaxAddressLen); err != nil {
			return err
		}
		if err := checkTarget(e.CheckTarget); err != nil {
			return Errorf("check_target", "%v", err)
		}
	}
	if e.LeaseTTL != 0 && (e.LeaseTTL.D() < MinLeaseTTL || e.LeaseTTL.D() > MaxLeaseTTL) {
		return Errorf("ttl", "a lease of %v is not between %v and %v", e.LeaseTTL, MinLeaseTTL, MaxLeaseTTL)
	}
	if e.Override != nil {
		if err := e.Override.validate(); err != nil {
			return WithField("override", err)
		}
	}
	return nil
}

// checkTarget validates "host", "host:port" or "[v6]:port".
func checkTarget(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return Errorf("", "%q: port %q is not between 1 and 65535", s, port)
		}
	}
	// Probed from here, never answered: "localhost:8080" will do.
	if _, err := parseTarget(host, true); err != nil {
		return err
	}
	return nil
}

// Leased reports whether the endpoint holds a lease.
func (e *Endpoint) Leased() bool { return e.LeaseTTL > 0 }

// Lapsed reports whether the lease has lapsed at now.
func (e *Endpoint) Lapsed(now time.Time) bool { return e.Leased() && !now.Before(e.Expires) }
