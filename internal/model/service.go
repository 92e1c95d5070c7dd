package model

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Steering policies: presets that expand into filter chains (internal/steer).
const (
	PolicyFailover   = "failover"   // priority tiers; the next tier when a pool is down
	PolicyWeighted   = "weighted"   // one endpoint, chosen by weight
	PolicyMultivalue = "multivalue" // up to max_answers healthy endpoints, shuffled
	PolicyGeo        = "geo"        // the nearest pool, then failover
	PolicyLatency    = "latency"    // the pool with the lowest latency for the client
)

// Policies lists the presets.
var Policies = []string{PolicyFailover, PolicyWeighted, PolicyMultivalue, PolicyGeo, PolicyLatency}

// Filters lists the filter names an explicit chain may use; "first_n:N"
// takes a count.
var Filters = []string{"health", "jurisdiction", "priority", "geo", "latency", "weight", "shuffle", "first_n"}

// What a service answers when every candidate endpoint is down.
const (
	AllDownFailOpen = "fail_open" // answer every endpoint the service may answer, ignoring health
	AllDownFallback = "fallback"  // answer the fallback pool, ignoring its health
	AllDownStatic   = "static"    // answer fixed addresses or a hostname
	AllDownNoData   = "nodata"    // answer NOERROR with no records
	AllDownServFail = "servfail"  // answer SERVFAIL
)

// Cold start: what an endpoint with no check result yet counts as.
const (
	ColdHealthy = "healthy" // up until a check says otherwise
	ColdDown    = "down"    // down until a check says up
	ColdWait    = "wait"    // down for up to cold_start.wait, then up
)

// Service is a steered name: a name inside a zone whose A, AAAA and CNAME
// answers are chosen per query from the healthy endpoints of its pools.
type Service struct {
	Name Name `json:"name"`
	Zone Name `json:"zone"`

	TTL         uint32 `json:"ttl"`          // TTL of steered answers
	DegradedTTL uint32 `json:"degraded_ttl"` // TTL while a pool is degraded or an endpoint held down

	Policy        string   `json:"policy"`
	Chain         []string `json:"chain,omitempty"` // an explicit filter chain instead of the preset
	MaxAnswers    int      `json:"max_answers"`
	Sticky        bool     `json:"sticky,omitempty"` // weighted: a client subnet keeps its endpoint
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Flatten       bool     `json:"flatten,omitempty"` // answer hostname endpoints as A/AAAA

	WhenAllDown AllDown   `json:"when_all_down"`
	ColdStart   ColdStart `json:"cold_start"`
	Damping     Damping   `json:"damping"`
	Pools       []Pool    `json:"pools"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Version counts the writes of the service; it is its ETag.
	Version uint64 `json:"version"`
}

// AllDown says what to answer when every candidate is down.
type AllDown struct {
	Mode   string   `json:"mode"`
	Pool   string   `json:"pool,omitempty"`   // for fallback
	Static []string `json:"static,omitempty"` // for static: addresses, or one hostname
	// Jurisdiction, for static, is where the static answer is served
	// from: required, and one of the service's, when the service is
	// restricted to jurisdictions.
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// ColdStart says what endpoints count as before their first check result.
type ColdStart struct {
	Mode string   `json:"mode"`
	Wait Duration `json:"wait,omitempty"`
}

// Damping holds an endpoint down when it flaps: more than Flaps state
// changes within Window keep it down for HoldDown. Flaps 0 disables it.
type Damping struct {
	Flaps    int      `json:"flaps"`
	Window   Duration `json:"window"`
	HoldDown Duration `json:"hold_down"`
}

// Pool groups endpoints that share a location, a provider and a check.
type Pool struct {
	Name         string    `json:"name"`
	Region       string    `json:"region,omitempty"`
	Country      string    `json:"country,omitempty"`   // ISO 3166-1 alpha-2
	Continent    string    `json:"continent,omitempty"` // AF AN AS EU NA OC SA
	Provider     string    `json:"provider,omitempty"`
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Latitude     *float64  `json:"latitude,omitempty"`
	Longitude    *float64  `json:"longitude,omitempty"`
	Priority     int       `json:"priority"`    // lower answers first (failover tiers)
	Weight       uint32    `json:"weight"`      // share of traffic for weighted policies
	MinHealthy   int       `json:"min_healthy"` // below this many healthy endpoints the pool is down
	Check        CheckSpec `json:"check"`
	Override     *Override `json:"override,omitempty"`
}

// Override forces a pool or endpoint up or down regardless of checks. An
// override with an empty State records who cleared the last one and
// forces nothing.
type Override struct {
	State  string    `json:"state"` // "up", "down", or "" once cleared
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"`
	// Expires, when set, ends the override by itself: a drill's, or an
	// operator's "drain for an hour", can never be left behind.
	Expires time.Time `json:"expires,omitzero"`
}

// Override time limits.
const (
	MinOverrideTTL = time.Second
	MaxOverrideTTL = 7 * 24 * time.Hour
)

// Forced returns the state the override forces at now: "up", "down", or
// "" when there is none, it was cleared, or it has expired.
func (o *Override) Forced(now time.Time) string {
	if o == nil || (!o.Expires.IsZero() && !now.Before(o.Expires)) {
		return ""
	}
	return o.State
}

// Service defaults and limits.
const (
	DefaultServiceTTL = 30
	DefaultMaxAnswers = 8
	// MaxPools and MaxEndpoints bound a service, and so the work one
	// service costs per query and per change.
	MaxPools     = 64
	MaxEndpoints = 10000
)

var (
	poolNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	countryRE    = regexp.MustCompile(`^[A-Z]{2}$`)
	continents   = []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
	labelValueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
)

// Normalize fills defaults in place; call it before Validate.
func (s *Service) Normalize() {
	if s.TTL == 0 {
		s.TTL = DefaultServiceTTL
	}
	if s.DegradedTTL == 0 {
		s.DegradedTTL = min(s.TTL, 10)
	}
	if s.Policy == "" && len(s.Chain) == 0 {
		s.Policy = PolicyFailover
	}
	if s.MaxAnswers == 0 {
		s.MaxAnswers = DefaultMaxAnswers
	}
	if s.WhenAllDown.Mode == "" {
		s.WhenAllDown.Mode = AllDownFailOpen
	}
	if s.ColdStart.Mode == "" {
		s.ColdStart.Mode = ColdHealthy
	}
	if s.ColdStart.Mode == ColdWait && s.ColdStart.Wait == 0 {
		s.ColdStart.Wait = Duration(2 * time.Second)
	}
	if s.Damping.Flaps > 0 {
		if s.Damping.Window == 0 {
			s.Damping.Window = Duration(time.Minute)
		}
		if s.Damping.HoldDown == 0 {
			s.Damping.HoldDown = Duration(time.Minute)
		}
	}
	for i := range s.Pools {
		p := &s.Pools[i]
		p.Country = strings.ToUpper(p.Country)
		p.Continent = strings.ToUpper(p.Continent)
		if p.Weight == 0 {
			p.Weight = 1
		}
		if p.MinHealthy == 0 {
			p.MinHealthy = 1
		}
		p.Check.Normalize()
	}
}

// Validate checks a normalized service; errors name the field.
func (s *Service) Validate() error {
	if s.Name.IsWildcard() {
		return Errorf("name", "a service cannot be at a wildcard name (%s)", s.Name)
	}
	if s.TTL > MaxTTL || s.DegradedTTL > MaxTTL {
		return Errorf("ttl", "TTLs must be at most %d", MaxTTL)
	}
	if s.DegradedTTL > s.TTL {
		return Errorf("degraded_ttl", "%d is longer than the service TTL %d", s.DegradedTTL, s.TTL)
	}
	switch {
	case len(s.Chain) > 0 && s.Policy != "":
		return Errorf("chain", "give a policy or an explicit chain, not both")
	case len(s.Chain) > 0:
		for i, f := range s.Chain {
			if err := CheckFilter(f); err != nil {
				return Errorf(fmt.Sprintf("chain[%d]", i), "%v", err)
			}
		}
	case !slices.Contains(Policies, s.Policy):
		return Errorf("policy", "unknown policy %q (known: %s)", s.Policy, strings.Join(Policies, ", "))
	}
	if s.MaxAnswers < 1 || s.MaxAnswers > 64 {
		return Errorf("max_answers", "%d is not between 1 and 64", s.MaxAnswers)
	}
	if len(s.Pools) == 0 {
		return Errorf("pools", "a service needs at least one pool")
	}
	if len(s.Pools) > MaxPools {
		return Errorf("pools", "%d pools; a service has at most %d", len(s.Pools), MaxPools)
	}
	seen := map[string]bool{}
	for i := range s.Pools {
		p := &s.Pools[i]
		field := fmt.Sprintf("pools[%d]", i)
		if seen[p.Name] {
			return Errorf(field+".name", "pool %q appears twice", p.Name)
		}
		seen[p.Name] = true
		if err := p.validate(); err != nil {
			return WithField(field, err)
		}
	}
	for i, j := range s.Jurisdictions {
		if !labelValueRE.MatchString(j) {
			return Errorf(fmt.Sprintf("jurisdictions[%d]", i), "%q is not a jurisdiction name (letters, digits, . _ -)", j)
		}
	}
	if len(s.Jurisdictions) > 0 && len(s.Chain) > 0 && s.Chain[0] != "jurisdiction" {
		return Errorf("chain", "the service is restricted to jurisdictions %s, so its chain must start with the jurisdiction filter", strings.Join(s.Jurisdictions, ", "))
	}
	if i := slices.Index(s.Chain, "health"); i > 0 {
		for _, f := range s.Chain[:i] {
			if name, _, _ := strings.Cut(f, ":"); name != "jurisdiction" {
				return Errorf("chain", "health must come right after jurisdiction (or first): %s before it would choose among endpoints that may be down", name)
			}
		}
	}
	if len(s.Jurisdictions) > 0 {
		ok := false
		for _, p := range s.Pools {
			if slices.Contains(s.Jurisdictions, p.Jurisdiction) {
				ok = true
			}
		}
		if !ok {
			return Errorf("jurisdictions", "no pool is in an allowed jurisdiction (%s)", strings.Join(s.Jurisdictions, ", "))
		}
	}
	if s.WhenAllDown.Mode != AllDownStatic && s.WhenAllDown.Jurisdiction != "" {
		return Errorf("when_all_down.jurisdiction", "only a static answer takes a jurisdiction (a fallback pool has its own)")
	}
	switch s.WhenAllDown.Mode {
	case AllDownFailOpen, AllDownNoData, AllDownServFail:
	case AllDownFallback:
		fp := s.Pool(s.WhenAllDown.Pool)
		if fp == nil {
			return Errorf("when_all_down.pool", "no pool named %q", s.WhenAllDown.Pool)
		}
		if len(s.Jurisdictions) > 0 && !slices.Contains(s.Jurisdictions, fp.Jurisdiction) {
			return Errorf("when_all_down.pool", "the fallback pool %q is outside the allowed jurisdictions (%s)", fp.Name, strings.Join(s.Jurisdictions, ", "))
		}
	case AllDownStatic:
		if len(s.WhenAllDown.Static) == 0 {
			return Errorf("when_all_down.static", "give the addresses (or one hostname) to answer")
		}
		if j := s.WhenAllDown.Jurisdiction; j != "" && !labelValueRE.MatchString(j) {
			return Errorf("when_all_down.jurisdiction", "%q is not a jurisdiction name (letters, digits, . _ -)", j)
		}
		// A static answer is never checked against the jurisdictions by
		// itself: the operator says where it is, as for a pool.
		if len(s.Jurisdictions) > 0 {
			switch j := s.WhenAllDown.Jurisdiction; {
			case j == "":
				return Errorf("when_all_down.jurisdiction", "the service is restricted to jurisdictions %s: say which of them the static answer is in", strings.Join(s.Jurisdictions, ", "))
			case !slices.Contains(s.Jurisdictions, j):
				return Errorf("when_all_down.jurisdiction", "the static answer's jurisdiction %q is outside the allowed jurisdictions (%s)", j, strings.Join(s.Jurisdictions, ", "))
			}
		}
		hosts := 0
		for i, a := range s.WhenAllDown.Static {
			t, err := ParseTarget(a)
			if err != nil {
				return Errorf(fmt.Sprintf("when_all_down.static[%d]", i), "%v", err)
			}
			if t.Host != "" {
				hosts++
			}
		}
		if hosts > 0 && len(s.WhenAllDown.Static) > 1 {
			return Errorf("when_all_down.static", "give addresses, or exactly one hostname")
		}
	default:
		return Errorf("when_all_down.mode", "unknown mode %q (known: %s, %s, %s, %s, %s)", s.WhenAllDown.Mode,
			AllDownFailOpen, AllDownFallback, AllDownStatic, AllDownNoData, AllDownServFail)
	}
	switch s.ColdStart.Mode {
	case ColdHealthy, ColdDown:
	case ColdWait:
		if s.ColdStart.Wait.D() <= 0 || s.ColdStart.Wait.D() > 5*time.Minute {
			return Errorf("cold_start.wait", "%v is not between 0 and 5m", s.ColdStart.Wait)
		}
	default:
		return Errorf("cold_start.mode", "unknown mode %q (known: %s, %s, %s)", s.ColdStart.Mode, ColdHealthy, ColdDown, ColdWait)
	}
	if s.Damping.Flaps < 0 || s.Damping.Window < 0 || s.Damping.HoldDown < 0 {
		return Errorf("damping", "values must not be negative")
	}
	return nil
}

// ValidPoolName reports whether s is a pool name a service may define.
func ValidPoolName(s string) bool { return poolNameRE.MatchString(s) }

func (p *Pool) validate() error {
	if !poolNameRE.MatchString(p.Name) {
		return Errorf("name", "%q is not a pool name (1-63 letters, digits, . _ -)", p.Name)
	}
	if p.Country != "" && !countryRE.MatchString(p.Country) {
		return Errorf("country", "%q is not an ISO 3166 two-letter country code", p.Country)
	}
	if p.Continent != "" && !slices.Contains(continents, p.Continent) {
		return Errorf("continent", "%q is not a continent code (%s)", p.Continent, strings.Join(continents, " "))
	}
	for _, v := range []struct{ field, val string }{{"region", p.Region}, {"provider", p.Provider}, {"jurisdiction", p.Jurisdiction}} {
		if v.val != "" && !labelValueRE.MatchString(v.val) {
			return Errorf(v.field, "%q is not a name (letters, digits, . _ -)", v.val)
		}
	}
	if (p.Latitude == nil) != (p.Longitude == nil) {
		return Errorf("latitude", "give both latitude and longitude, or neither")
	}
	if p.Latitude != nil && (math.IsNaN(*p.Latitude) || *p.Latitude < -90 || *p.Latitude > 90) {
		return Errorf("latitude", "%v is not between -90 and 90", *p.Latitude)
	}
	if p.Longitude != nil && (math.IsNaN(*p.Longitude) || *p.Longitude < -180 || *p.Longitude > 180) {
		return Errorf("longitude", "%v is not between -180 and 180", *p.Longitude)
	}
	if p.Priority < 0 || p.Priority > 1000 {
		return Errorf("priority", "%d is not between 0 and 1000", p.Priority)
	}
	if p.MinHealthy < 1 {
		return Errorf("min_healthy", "must be at least 1")
	}
	if err := p.Check.Validate(); err != nil {
		return WithField("check", err)
	}
	if p.Override != nil {
		if err := p.Override.validate(); err != nil {
			return WithField("override", err)
		}
	}
	return nil
}

func (o *Override) validate() error {
	if o.State != "up" && o.State != "down" && o.State != "" {
		return Errorf("state", "%q is not up or down (or empty: cleared)", o.State)
	}
	return nil
}

// CheckFilter validates one element of an explicit chain.
func CheckFilter(f string) error {
	name, arg, hasArg := strings.Cut(f, ":")
	if !slices.Contains(Filters, name) {
		return fmt.Errorf("unknown filter %q (known: %s)", name, strings.Join(Filters, ", "))
	}
	if name == "first_n" {
		var n int
		if _, err := fmt.Sscanf(arg, "%d", &n); !hasArg || err != nil || n < 1 || n > 64 {
			return fmt.Errorf("first_n needs a count from 1 to 64, as first_n:4")
		}
	} else if hasArg {
		return fmt.Errorf("filter %q takes no argument", name)
	}
	return nil
}

// Pool returns the pool named name, or nil.
func (s *Service) Pool(name string) *Pool {
	for i := range s.Pools {
		if s.Pools[i].Name == name {
			return &s.Pools[i]
		}
	}
	return nil
}

// Target is where an endpoint points: an address or a hostname.
type Target struct {
	Addr netip.Addr
	Host Name
}

// ParseTarget parses an endpoint's answer: an IPv4 or IPv6 address, or a
// hostname with its domain (at least two labels), which is answered as a
// CNAME target.
func ParseTarget(s string) (Target, error) { return parseTarget(s, false) }

// parseTarget is ParseTarget; singleLabel accepts names such as
// "localhost", for what is only probed and never answered.
func parseTarget(s string, singleLabel bool) (Target, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return Target{}, fmt.Errorf("%q: addresses with a zone are not allowed", s)
		}
		return Target{Addr: a.Unmap()}, nil
	}
	if s == "" || strings.ContainsAny(s, ":/") {
		return Target{}, fmt.Errorf("%q is not an IP address or a hostname", s)
	}
	n, err := ParseName(s)
	if err != nil {
		return Target{}, fmt.Errorf("%q is not an IP address or a hostname: %v", s, err)
	}
	if n == Root {
		return Target{}, fmt.Errorf("%q is the root, not a hostname", s)
	}
	if n.Labels() < 2 && !singleLabel {
		return Target{}, fmt.Errorf("%q is a single-label name: answered as a CNAME target it would send clients to a top-level domain; give an IP address or a hostname with its domain", s)
	}
	return Target{Host: n}, nil
}
