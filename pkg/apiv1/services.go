package apiv1

import "time"

// Service is a steered name: its A, AAAA and CNAME answers are chosen per
// query from the healthy endpoints of its pools. Fields left empty take
// their defaults (shown in responses).
type Service struct {
	Name string `json:"name"`
	// Zone is the zone the name is in (set by the server).
	Zone        string `json:"zone,omitempty"`
	TTL         uint32 `json:"ttl,omitempty"`          // default 30
	DegradedTTL uint32 `json:"degraded_ttl,omitempty"` // TTL while degraded; default min(ttl, 10)
	// Policy is failover (default), weighted, multivalue, geo or latency.
	Policy string `json:"policy,omitempty"`
	// Chain is an explicit filter chain instead of a policy, e.g.
	// ["jurisdiction", "health", "geo", "priority", "first_n:2"].
	Chain         []string   `json:"chain,omitempty"`
	MaxAnswers    int        `json:"max_answers,omitempty"` // default 8
	Sticky        bool       `json:"sticky,omitempty"`
	Jurisdictions []string   `json:"jurisdictions,omitempty"`
	Flatten       bool       `json:"flatten,omitempty"`
	WhenAllDown   *AllDown   `json:"when_all_down,omitempty"`
	ColdStart     *ColdStart `json:"cold_start,omitempty"`
	Damping       *Damping   `json:"damping,omitempty"`
	Pools         []Pool     `json:"pools"`

	Version uint64     `json:"version,omitempty"` // the service's ETag
	Created *time.Time `json:"created,omitempty"`
	Updated *time.Time `json:"updated,omitempty"`
}

// AllDown says what to answer when every endpoint the service may answer
// is down: fail_open (default), fallback (Pool), static (Static, with the
// Jurisdiction it is in when the service has jurisdictions), nodata or
// servfail.
type AllDown struct {
	Mode         string   `json:"mode"`
	Pool         string   `json:"pool,omitempty"`
	Static       []string `json:"static,omitempty"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
}

// ColdStart says what endpoints count as before their first check result:
// healthy (default), down, or wait (down for up to Wait, then up).
type ColdStart struct {
	Mode string `json:"mode"`
	Wait string `json:"wait,omitempty"`
}

// Damping holds a flapping endpoint down: more than Flaps state changes
// within Window hold it down for HoldDown.
type Damping struct {
	Flaps    int    `json:"flaps"`
	Window   string `json:"window,omitempty"`
	HoldDown string `json:"hold_down,omitempty"`
}

// Pool groups endpoints.
type Pool struct {
	Name         string    `json:"name"`
	Region       string    `json:"region,omitempty"`
	Country      string    `json:"country,omitempty"`
	Continent    string    `json:"continent,omitempty"`
	Provider     string    `json:"provider,omitempty"`
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Latitude     *float64  `json:"latitude,omitempty"`
	Longitude    *float64  `json:"longitude,omitempty"`
	Priority     int       `json:"priority,omitempty"`
	Weight       uint32    `json:"weight,omitempty"`
	MinHealthy   int       `json:"min_healthy,omitempty"`
	Check        *Check    `json:"check,omitempty"`
	Override     *Override `json:"override,omitempty"`
}

// Check says how a pool's endpoints are checked. Durations are strings
// such as "1s" or "250ms".
type Check struct {
	Type         string            `json:"type"` // http, https, tcp, dns, push, none (default)
	Interval     string            `json:"interval,omitempty"`
	Timeout      string            `json:"timeout,omitempty"`
	Rise         int               `json:"rise,omitempty"`
	Fall         int               `json:"fall,omitempty"`
	Port         uint16            `json:"port,omitempty"`
	Method       string            `json:"method,omitempty"`
	Path         string            `json:"path,omitempty"`
	ExpectStatus []string          `json:"expect_status,omitempty"`
	BodyContains string            `json:"body_contains,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	UserAgent    string            `json:"user_agent,omitempty"`
	Host         string            `json:"host,omitempty"`
	TLSVerify    *bool             `json:"tls_verify,omitempty"`
	QName        string            `json:"qname,omitempty"`
	QType        string            `json:"qtype,omitempty"`
	ExpectRcode  string            `json:"expect_rcode,omitempty"`
	ExpectAnswer string            `json:"expect_answer,omitempty"`
	PushTTL      string            `json:"push_ttl,omitempty"`
}

// Override forces a pool or endpoint up or down.
type Override struct {
	State   string     `json:"state"`
	Actor   string     `json:"actor,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	Time    time.Time  `json:"time,omitempty"`
	Expires *time.Time `json:"expires,omitempty"` // the override ends by itself then
}

// OverrideRequest is the body of the override endpoints.
type OverrideRequest struct {
	State  string `json:"state"` // "up" or "down"
	Reason string `json:"reason,omitempty"`
	// TTL ends the override by itself ("1h"); empty: until cleared.
	TTL string `json:"ttl,omitempty"`
	// For names what the override is for, such as "drill:eu-failover";
	// it is recorded with the token's name as the actor.
	For string `json:"for,omitempty"`
}

// ServiceList answers GET /v1/services.
type ServiceList struct {
	Services []Service `json:"services"`
}

// Endpoint is one answer a service can give. To register, POST it with an
// ID (the registration key: registering again is safe) and, for a lease,
// a TTL; renew the lease before it lapses.
type Endpoint struct {
	ID          string `json:"id"`
	Pool        string `json:"pool"`
	Address     string `json:"address"` // IP address or hostname
	Weight      uint32 `json:"weight,omitempty"`
	CheckTarget string `json:"check_target,omitempty"` // probe this host[:port] instead of the address
	TTL         string `json:"ttl,omitempty"`          // lease duration; empty for a static endpoint

	Expires  *time.Time      `json:"expires,omitempty"`
	Override *Override       `json:"override,omitempty"`
	Created  *time.Time      `json:"created,omitempty"`
	Renewed  *time.Time      `json:"renewed,omitempty"`
	Health   *EndpointHealth `json:"health,omitempty"`
	// Steering is what answers make of the endpoint now, all things
	// considered (checks, overrides, lease, cold start, damping).
	Steering *EndpointSteering `json:"steering,omitempty"`
}

// EndpointSteering says whether answers may include an endpoint (its
// health, overrides, lease, cold start and damping allow it), and whether
// they do: Answered is what the service's chain and when_all_down make of
// it for a client with no location (no EDNS Client Subnet, an address the
// geo database does not place) — "yes" every such answer includes it,
// "some" a weighted or random choice includes it in some answers, "no"
// none does. Clients with a location can be answered otherwise (geo,
// latency); explain shows one client's answer.
type EndpointSteering struct {
	Answerable  bool   `json:"answerable"`
	Why         string `json:"why"`
	Answered    string `json:"answered,omitempty"`
	AnsweredWhy string `json:"answered_why,omitempty"`
}

// EndpointHealth is what the checks say of an endpoint.
type EndpointHealth struct {
	State     string     `json:"state"` // up, down, unknown
	Since     time.Time  `json:"since"`
	LastCheck *time.Time `json:"last_check,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	RTT       string     `json:"rtt,omitempty"`
	HeldUntil *time.Time `json:"held_until,omitempty"`
	// View says whose view State is when other nodes of a cluster voted
	// on it ("2 of 3 nodes see it down (b, c)"); absent when it is this
	// node's own. LastCheck, LastError and RTT are this node's probes.
	View string `json:"view,omitempty"`
}

// EndpointList answers GET /v1/services/{service}/endpoints.
type EndpointList struct {
	Service   string     `json:"service"`
	Endpoints []Endpoint `json:"endpoints"`
}

// HealthReport is the body of a push health report.
type HealthReport struct {
	Up     bool   `json:"up"`
	Reason string `json:"reason,omitempty"`
}

// Event is one change of an endpoint's (or pool's) state.
type Event struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Endpoint string    `json:"endpoint,omitempty"`
	Pool     string    `json:"pool,omitempty"`
	// Node names the cluster node an event is about (one isolated, or no
	// longer); Service is empty then.
	Node string `json:"node,omitempty"`
	// Zone and Name say what an anomaly the DNS listeners saw is about
	// (actor "anomaly"): a random-subdomain flood against Zone, a spike of
	// queries for Name. Service is empty then.
	Zone   string `json:"zone,omitempty"`
	Name   string `json:"name,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Reason string `json:"reason"`
	Actor  string `json:"actor"`
}

// EventList answers GET /v1/events.
type EventList struct {
	Events []Event `json:"events"`
	// Stored is the sequence number of the newest event kept in the
	// store: events up to it are shown after a restart, even one after a
	// crash. Events are stored within moments of being logged.
	Stored uint64 `json:"stored,omitempty"`
}

// Explanation answers GET /v1/services/{service}/evaluate: the answer a
// client gets and why.
type Explanation struct {
	Service  string      `json:"service"`
	QType    string      `json:"qtype"`
	Client   string      `json:"client"`
	Subnet   string      `json:"subnet,omitempty"`
	Location Location    `json:"location"`
	Pools    []PoolState `json:"pools"`
	Steps    []Step      `json:"steps"`
	Notes    []string    `json:"notes,omitempty"`
	AllDown  string      `json:"all_down,omitempty"`
	Rcode    string      `json:"rcode"`
	Answer   []string    `json:"answer"`
	TTL      uint32      `json:"ttl"`
	Scope    uint8       `json:"scope"`
}

// Location is where the client was placed.
type Location struct {
	Known     bool     `json:"known"`
	Region    string   `json:"region,omitempty"`
	Country   string   `json:"country,omitempty"`
	Continent string   `json:"continent,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	Network   string   `json:"network,omitempty"`
}

// PoolState is a pool's state during an evaluation.
type PoolState struct {
	Name    string `json:"name"`
	Up      bool   `json:"up"`
	Healthy int    `json:"healthy"`
	Total   int    `json:"total"`
	Why     string `json:"why"`
}

// Step is one filter of the chain: what went in, what came out, and why
// each removed endpoint was removed.
type Step struct {
	Filter  string    `json:"filter"`
	In      []string  `json:"in"`
	Out     []string  `json:"out"`
	Removed []Removal `json:"removed,omitempty"`
}

// Removal is one endpoint a filter removed.
type Removal struct {
	Endpoint string `json:"endpoint"`
	Pool     string `json:"pool"`
	Reason   string `json:"reason"`
}
