package local

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/store/storetest"
)

// TestMain fails the package's tests when any goroutine outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openBolt opens a bbolt store closed when the test ends.
func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestSessions runs the session suite on a Cluster, its fenced writes on
// store/bolt.
func TestSessions(t *testing.T) {
	storetest.RunSessions(t, storetest.SessionFactory{
		TTL: time.Second,
		Cluster: func(t *testing.T) func(*testing.T) (store.Shared, store.Store) {
			c, st := New(), openBolt(t)
			return func(*testing.T) (store.Shared, store.Store) { return c, st }
		},
	})
}

// TestNewSessionLeadsAtOnce: a node alone leads every election at once.
func TestNewSessionLeadsAtOnce(t *testing.T) {
	s, err := NewSession("solo")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Campaign must not need to wait
	if _, err := s.Campaign(ctx, "reaper", []byte("solo")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Campaign on a done context: %v", err)
	}
	term, err := s.Campaign(context.Background(), "reaper", []byte("solo"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Leader(context.Background(), "reaper"); err != nil || string(v) != "solo" {
		t.Fatalf("Leader = %q, %v", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-term.Done():
	default:
		t.Fatal("Close left the term running")
	}
	if _, err := NewSession(""); err == nil {
		t.Fatal("NewSession with an empty name succeeded")
	}
}
