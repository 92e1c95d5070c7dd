package control

import (
	"context"

	"github.com/stratusdns/stratus/internal/store"
)

// Publisher is what a write waits on before it returns: the publication of
// the revision its transaction produced, so that the next DNS query sees
// the change (read-your-writes). *publish.Publisher is one.
type Publisher interface {
	// WaitFor returns once a snapshot at revision rev or later is served.
	WaitFor(ctx context.Context, rev store.Revision) error
}
