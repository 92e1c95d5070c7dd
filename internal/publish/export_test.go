package publish

import (
	"context"

	"github.com/stratusdns/stratus/internal/store"
)

// Load is a full load of the store, as Run makes at start and after it
// fell behind.
func Load(ctx context.Context, p *Publisher) (store.Revision, error) { return p.load(ctx) }

// SetApplyHook calls f with each batch before the publisher applies it.
// Set it before the publisher runs; the test's cleanup removes it.
func SetApplyHook(t interface{ Cleanup(func()) }, f func(store.Batch)) {
	applyHook = f
	t.Cleanup(func() { applyHook = nil })
}
