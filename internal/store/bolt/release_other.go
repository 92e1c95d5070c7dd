//go:build !linux

package bolt

// dropPages does nothing where the pages of a mapping cannot be dropped
// portably.
func dropPages(addr uintptr, size int64) error { return nil }
