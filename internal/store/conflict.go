package store

import "context"

type conflictKeyCtx struct{}

// WithConflictKey returns ctx marked so that an Update run under it is
// known to read and write what every other Update under the same key
// does (a zone's writes all rewrite its SOA and its zone record). An
// engine that runs transactions optimistically runs the Updates of one
// key one at a time in this process, in the order they arrived, so that
// they never make each other run again; an engine that already runs
// writes one at a time (store/bolt) ignores the mark.
func WithConflictKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, conflictKeyCtx{}, key)
}

// ConflictKey returns the key WithConflictKey put in ctx ("" if none).
func ConflictKey(ctx context.Context) string {
	k, _ := ctx.Value(conflictKeyCtx{}).(string)
	return k
}
