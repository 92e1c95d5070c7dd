package storetest

import (
	"errors"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// Factory opens the engine under test.
type Factory struct {
	// Open opens the store kept in dir, which the suite creates with
	// t.TempDir. A new dir must give an empty store at revision 0; opening
	// a dir again after Close must give back everything committed there.
	//
	// history > 0 asks for a store whose watch history retains the changes
	// of exactly the last history revisions (older ones fail with
	// store.ErrCompacted); 0 asks for the engine's default.
	//
	// Open fails t when the store cannot be opened. The suite closes every
	// store it opens.
	Open func(t *testing.T, dir string, history int) store.Store

	// Concurrent is set for engines whose Updates run at once, each fn
	// on its own snapshot, and commit only if what fn read is unchanged
	// (optimistic engines, such as store/etcd). The suite then also
	// checks that fn runs again exactly when another Update changed what
	// it read. Engines that run one Update at a time leave it false.
	Concurrent bool
}

// Run runs the conformance suite against the engine opened by f, one
// subtest per property.
func Run(t *testing.T, f Factory) {
	if f.Open == nil {
		t.Fatal("storetest: Factory.Open is nil")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"Revisions", testRevisions},
		{"FailedUpdateWritesNothing", testFailedUpdateWritesNothing},
		{"ReadYourWrites", testReadYourWrites},
		{"ValuesCopied", testValuesCopied},
		{"GetMany", testGetMany},
		{"Scan", testScan},
		{"ScanStopAndError", testScanStopAndError},
		{"ScanWhileWriting", testScanWhileWriting},
		{"UpdateReadsSerializable", testUpdateReadsSerializable},
		{"ViewSnapshot", testViewSnapshot},
		{"ViewConsistentUnderWrites", testViewConsistentUnderWrites},
		{"WatchOrder", testWatchOrder},
		{"WatchFromPast", testWatchFromPast},
		{"WatchFuture", testWatchFuture},
		{"WatchConcurrentWriters", testWatchConcurrentWriters},
		{"WatchCancel", testWatchCancel},
		{"WatchCallbackError", testWatchCallbackError},
		{"WatchCompacted", testWatchCompacted},
		{"WatchSlowWatcher", testWatchSlowWatcher},
		{"Durability", testDurability},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f) })
	}
}

// open opens a store in dir (a fresh directory when dir is "") and closes it
// when the test ends.
func (f Factory) open(t *testing.T, dir string, history int) store.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s := f.Open(t, dir, history)
	if s == nil {
		t.Fatal("Factory.Open returned nil")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
