package control

import (
	"context"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/store"
)

// Publisher is what a write waits on before it returns: the publication of
// the revision its transaction produced, so that the next DNS query sees
// the change (read-your-writes). *publish.Publisher is one.
type Publisher interface {
	// WaitFor returns once a snapshot at revision rev or later is served.
	WaitFor(ctx context.Context, rev store.Revision) error
}

// TokenFollower is a Publisher that also keeps a table of the stored API
// tokens, current to the revision it serves (*publish.Publisher is one).
// A plane whose publisher is one authenticates a token the table holds
// without a store read, and asks the store for any other (a token created
// on another node a moment ago). A token deleted anywhere stops working
// here once the publisher has served the deletion; while the store is
// unreachable, the tokens the table holds still authenticate.
type TokenFollower interface {
	Tokens() *auth.Table
}
