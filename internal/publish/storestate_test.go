package publish_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// awayStore is a store that can be made unreachable, and whose first
// watch is lost: it sees nothing until cancelled, as a watch whose
// connection went away silently.
type awayStore struct {
	store.Store
	down    atomic.Bool
	watches atomic.Int32
}

var errAway = errors.New("etcd did not answer: " + store.ErrUnavailable.Error())

func (s *awayStore) Revision(ctx context.Context) (store.Revision, error) {
	if s.down.Load() {
		return 0, errAway
	}
	return s.Store.Revision(ctx)
}

func (s *awayStore) Watch(ctx context.Context, from store.Revision, fn func(store.Batch) error) error {
	if s.watches.Add(1) == 1 {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Store.Watch(ctx, from, fn)
}

// syncBuf is a log buffer safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestProbeDegradedAndConverges: a probe that fails marks the store
// unreachable, logs it once and keeps the served snapshot; the next
// answer clears it and logs the recovery;
// a watch that stays behind the store is restarted, so the publisher
// catches up with no operator.
func TestProbeDegradedAndConverges(t *testing.T) {
	bst, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bst.Close()
	st := &awayStore{Store: bst}
	var logs syncBuf
	p := publish.New(st, slog.New(slog.NewTextHandler(&logs, nil)))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(rctx) }()
	defer func() { cancel(); <-done }()
	<-p.Ready()
	served := p.Current()
	var reach []publish.StoreState
	p.OnReach(func(s publish.StoreState) { reach = append(reach, s) }) // Probe runs here, not in Monitor

	st.down.Store(true)
	p.Probe(ctx)
	if s := p.State(); !s.Unreachable || s.Err == nil || p.Current() != served {
		t.Fatalf("after a failed probe: %+v, snapshot kept %v", s, p.Current() == served)
	}
	p.Probe(ctx)
	if n := strings.Count(logs.String(), "store unreachable"); n != 1 {
		t.Errorf("logged the outage %d times, want once:\n%s", n, logs.String())
	}
	st.down.Store(false)
	p.Probe(ctx)
	if s := p.State(); s.Unreachable || s.Err != nil {
		t.Fatalf("after the store answered: %+v", s)
	}
	if n := strings.Count(logs.String(), "store reachable again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once:\n%s", n, logs.String())
	}
	if len(reach) != 2 || !reach[0].Unreachable || !errors.Is(reach[0].Err, errAway) || reach[0].Since.IsZero() || reach[1].Unreachable || reach[1].Err != nil {
		t.Errorf("OnReach told %+v, want the outage once (with its error), then the return once", reach)
	}

	rev, err := bst.Update(ctx, func(tx store.Tx) error { return tx.Put("x", []byte("1")) })
	if err != nil {
		t.Fatal(err)
	}
	for p.Revision() < rev {
		p.Probe(ctx) // the lost watch sees nothing; probes restart it
		if st.watches.Load() > 5 {
			t.Fatalf("watch restarted %d times without catching up", st.watches.Load())
		}
	}
	if err := p.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
}
