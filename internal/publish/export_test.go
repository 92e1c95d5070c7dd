package publish

import (
	"context"

	"github.com/stratusdns/stratus/internal/store"
)

// Load is a full load of the store, as Run makes at start and after it
// fell behind.
func Load(ctx context.Context, p *Publisher) (store.Revision, error) { return p.load(ctx) }
