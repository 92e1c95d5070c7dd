package control

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrZoneNotFound means the zone does not exist.
	ErrZoneNotFound = errors.New("zone not found")
	// ErrZoneExists means a zone of that name exists already.
	ErrZoneExists = errors.New("zone already exists")
	// ErrRRsetNotFound means no RRset has that name and type.
	ErrRRsetNotFound = errors.New("RRset not found")
	// ErrTokenNotFound means no token has that id.
	ErrTokenNotFound = errors.New("token not found")
	// ErrServiceNotFound means no service has that name.
	ErrServiceNotFound = errors.New("service not found")
	// ErrServiceExists means a service of that name exists already.
	ErrServiceExists = errors.New("service already exists")
	// ErrPoolNotFound means the service has no pool of that name.
	ErrPoolNotFound = errors.New("pool not found")
	// ErrTSIGKeyNotFound means no TSIG key has that name.
	ErrTSIGKeyNotFound = errors.New("tsig key not found")
	// ErrTSIGKeyExists means a TSIG key of that name exists already.
	ErrTSIGKeyExists = errors.New("tsig key already exists")
	// ErrEndpointNotFound means the service has no endpoint with that id.
	ErrEndpointNotFound = errors.New("endpoint not found")

	// errNoChange aborts a transaction that would change nothing.
	errNoChange = errors.New("control: no change")
)

// ScopeError means a token was refused a write on tokens because it would
// grant, or remove, scopes it does not hold itself. The API answers 403
// Forbidden.
type ScopeError struct {
	Token   string   // the acting token's name
	Missing []string // the scopes it does not hold
	Action  string   // what it tried, such as "create a token with"
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("token %q cannot %s scopes it does not hold: %s", e.Token, e.Action, strings.Join(e.Missing, ", "))
}

// InUseError means a write was refused because something else still uses
// what it would remove (a zone's ACL names the key, a service lives in the
// zone, an endpoint is in the pool): that must change first. The API
// answers 409 Conflict.
type InUseError struct {
	Field   string
	Message string
}

func (e *InUseError) Error() string { return e.Message }

func inUse(field, format string, args ...any) error {
	return &InUseError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// PreconditionError means an If-Match serial did not match the zone's
// current serial: someone else changed the zone first.
type PreconditionError struct {
	Zone     string
	Service  string // set for service writes, whose version is compared
	Expected uint64
	Current  uint64
}

func (e *PreconditionError) Error() string {
	if e.Service != "" {
		return fmt.Sprintf("service %s is at version %d, not %d: it changed since you read it", e.Service, e.Current, e.Expected)
	}
	return fmt.Sprintf("zone %s is at serial %d, not %d: it changed since you read it", e.Zone, e.Current, e.Expected)
}
