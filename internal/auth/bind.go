package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Bindings limit a token to named objects. Each kind that lists names
// limits the routes of its own resource, and leaves the others alone:
//
//   - Zones: the zones:* routes (zones, records, zone files, journals)
//     act only on these zones, GET /v1/zones lists only them, and GET
//     /v1/events shows only the DNS anomalies about them.
//   - Services: the services:* and endpoints:write routes (services,
//     their pools, endpoints, overrides, health reports) act only on
//     these services, and GET /v1/services and GET /v1/events show only
//     them.
//   - Pools: the routes on pools and endpoints act only on pools of
//     these names (in any service the token may act on): an endpoint is
//     registered, renewed, deregistered, overridden, reported on and
//     read only when it is, and stays, in one of them; a pool's override
//     is set or cleared only on them; endpoint lists and GET /v1/events
//     show only theirs. A token bound to pools cannot write a service as
//     a whole (create, replace or delete it) nor evaluate its answers:
//     that would reach its other pools.
//
// Names are canonical: zones and services lowercase with the final dot
// ("api.example.com."), pools as the service defines them. A token
// bound to services or pools cannot run or read drills, which act
// across services. No binding limits tsig:admin, nor tokens:admin
// beyond this: a token creates, replaces and deletes only tokens whose
// bindings are within its own (BindingError otherwise). Expiry is
// checked apart (Outlives).
type Bindings struct {
	Zones    []string `json:"zones,omitempty"`
	Services []string `json:"services,omitempty"`
	Pools    []string `json:"pools,omitempty"`
}

// Binding kinds, as errors and lists name them.
const (
	BindZone    = "zone"
	BindService = "service"
	BindPool    = "pool"
)

// Empty reports whether b binds nothing: the token acts on every object
// its scopes reach.
func (b Bindings) Empty() bool {
	return len(b.Zones) == 0 && len(b.Services) == 0 && len(b.Pools) == 0
}

// list returns the names of one kind.
func (b Bindings) list(kind string) []string {
	switch kind {
	case BindZone:
		return b.Zones
	case BindService:
		return b.Services
	default:
		return b.Pools
	}
}

// String renders b as "zones=a.,b. services=c." (empty: "unbound").
func (b Bindings) String() string {
	var parts []string
	for _, k := range []string{BindZone, BindService, BindPool} {
		if l := b.list(k); len(l) > 0 {
			parts = append(parts, k+"s="+strings.Join(l, ","))
		}
	}
	if len(parts) == 0 {
		return "unbound"
	}
	return strings.Join(parts, " ")
}

// BindingError means a token acted, or tried to grant, beyond its
// bindings. The API answers 403 Forbidden.
type BindingError struct {
	Token  string   // the acting token's name
	Kind   string   // BindZone, BindService or BindPool
	Bound  []string // the names the token is bound to, of Kind
	Object string   // the object it tried to act on (or grant)
	// Action, when set, replaces "act on <kind> <object>" in the
	// message, for refusals that are not about one object.
	Action string
}

func (e *BindingError) Error() string {
	what := e.Action
	if what == "" {
		what = fmt.Sprintf("act on %s %s", e.Kind, e.Object)
	}
	return fmt.Sprintf("token %q is bound to %s %s: it cannot %s", e.Token, plural(e.Kind, len(e.Bound)), strings.Join(e.Bound, ", "), what)
}

func plural(kind string, n int) string {
	if n == 1 {
		return kind
	}
	return kind + "s"
}

// check refuses object of kind unless the principal is unbound in kind
// or bound to it.
func (p *Principal) check(kind, object string) error {
	l := p.Bindings.list(kind)
	if len(l) == 0 || slices.Contains(l, object) {
		return nil
	}
	return &BindingError{Token: p.Name, Kind: kind, Bound: l, Object: object}
}

// Zone returns a *BindingError unless the principal may act on zone
// (canonical name).
func (p *Principal) Zone(zone string) error { return p.check(BindZone, zone) }

// Service returns a *BindingError unless the principal may act on
// service (canonical name).
func (p *Principal) Service(service string) error { return p.check(BindService, service) }

// Pool returns a *BindingError unless the principal may act on pools
// named pool.
func (p *Principal) Pool(pool string) error { return p.check(BindPool, pool) }

// WholeService returns a *BindingError when the principal is bound to
// pools: it may not write service as a whole (create, replace or delete
// it), which would reach the service's other pools. It also checks the
// service binding.
func (p *Principal) WholeService(service string) error {
	if err := p.Service(service); err != nil {
		return err
	}
	if len(p.Bindings.Pools) > 0 {
		return &BindingError{Token: p.Name, Kind: BindPool, Bound: p.Bindings.Pools, Action: "write service " + service + " as a whole, which reaches its other pools"}
	}
	return nil
}

// Exceeds returns a *BindingError when a token bound by b would act on
// objects the principal may not: for every kind the principal is bound
// in, b must be bound in it too, to some of the same names.
func (p *Principal) Exceeds(b Bindings) error {
	for _, kind := range []string{BindZone, BindService, BindPool} {
		mine := p.Bindings.list(kind)
		if len(mine) == 0 {
			continue
		}
		theirs := b.list(kind)
		if len(theirs) == 0 {
			return &BindingError{Token: p.Name, Kind: kind, Bound: mine, Action: "grant a token without a " + kind + " binding, which would act on every " + kind}
		}
		for _, n := range theirs {
			if !slices.Contains(mine, n) {
				return &BindingError{Token: p.Name, Kind: kind, Bound: mine, Action: "grant a token bound to " + kind + " " + n}
			}
		}
	}
	return nil
}

// ExpiredError means a token's expiry has passed. The API answers 401
// Unauthorized.
type ExpiredError struct {
	Token   string    // the token's name
	Expires time.Time // when it expired
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("token %q expired at %s", e.Token, e.Expires.UTC().Format(time.RFC3339))
}

// Expired returns an *ExpiredError when the principal's token has an
// expiry that is not after now.
func (p *Principal) Expired(now time.Time) error {
	if p.Expires.IsZero() || now.Before(p.Expires) {
		return nil
	}
	return &ExpiredError{Token: p.Name, Expires: p.Expires}
}

// OutlivesError means a token that expires tried to create a token that
// would outlive it: one that never expires, or expires later. The API
// answers 403 Forbidden.
type OutlivesError struct {
	Token   string    // the acting token's name
	Expires time.Time // when the acting token expires
	Wants   time.Time // the new token's expiry; zero: never
}

func (e *OutlivesError) Error() string {
	wants := "never expires"
	if !e.Wants.IsZero() {
		wants = "expires at " + e.Wants.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("token %q expires at %s: it cannot create a token that %s; give it an expiry no later than %s",
		e.Token, e.Expires.UTC().Format(time.RFC3339), wants, e.Expires.UTC().Format(time.RFC3339))
}

// Outlives returns an *OutlivesError when the principal's token expires
// and a token it creates with expires (zero: never) would outlive it. A
// principal without an expiry (the local operator, a token that never
// expires) grants any.
func (p *Principal) Outlives(expires time.Time) error {
	if p.Expires.IsZero() || (!expires.IsZero() && !expires.After(p.Expires)) {
		return nil
	}
	return &OutlivesError{Token: p.Name, Expires: p.Expires, Wants: expires}
}
