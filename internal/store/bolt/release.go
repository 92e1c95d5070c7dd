package bolt

import (
	"fmt"

	"github.com/stratusdns/stratus/internal/store"
)

// ReleaseMemory drops the pages of the file's memory map from the
// process's resident memory: after a scan of the whole store (the snapshot
// publisher's load) they would otherwise count as long as the kernel lets
// them. The page cache keeps them, and later reads map again the pages
// they touch.
func (s *Store) ReleaseMemory() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	// A read transaction holds bbolt's map lock: the map cannot move
	// while it is open.
	tx, err := s.db.Begin(false)
	if err != nil {
		return s.txError("release memory", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := dropPages(s.db.Info().Data, tx.Size()); err != nil {
		return fmt.Errorf("store/bolt: release memory: %w", err)
	}
	return nil
}
