package bolt

import (
	"path/filepath"
	"testing"
)

// TestCommitsAreSynced guards durability against power loss: every commit
// must reach stable storage before Update returns, which bbolt does unless
// told not to. (The process-kill tests cannot see a missing fsync: the page
// cache survives a killed process.)
func TestCommitsAreSynced(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.db.NoSync {
		t.Error("bbolt NoSync is set: commits would be acknowledged before they are on disk")
	}
	if s.db.NoGrowSync {
		t.Error("bbolt NoGrowSync is set: a grown file could lose committed pages on power loss")
	}
}
