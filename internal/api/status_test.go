package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// awayStore fails every call with store.ErrUnavailable while down.
type awayStore struct {
	store.Store
	down   atomic.Bool
	failed atomic.Int64 // calls failed while down
}

func (s *awayStore) err() error {
	if s.down.Load() {
		s.failed.Add(1)
		return fmt.Errorf("store/etcd: read: etcd at http://127.0.0.1:1 did not answer within 5s: %w", store.ErrUnavailable)
	}
	return nil
}

func (s *awayStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.View(ctx, fn)
}

func (s *awayStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Revision, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.Update(ctx, fn)
}

// TestStoreAwayStatusAnd503: with the store unreachable, a token verified
// before still reads GET /v1/status, which says degraded; calls that need
// the store answer 503 naming it; once it is back they work again.
func TestStoreAwayStatusAnd503(t *testing.T) {
	bst, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bst.Close() })
	st := &awayStore{Store: bst}
	pub := publish.New(st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-pub.Ready()
	plane := control.New(st, pub, control.Options{})
	admin, _, err := plane.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	status := func() apiv1.Status {
		return apiv1.Status{Degraded: st.down.Load(), Store: apiv1.StoreStatus{Reachable: !st.down.Load()}}
	}
	srv := httptest.NewServer(New(PlaneControl(plane), Options{Status: status}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: plane, admin: admin}

	var got apiv1.Status
	r := e.do(t, "GET", "/v1/status", admin, "")
	if r.status != 200 {
		t.Fatalf("status: %d %s", r.status, r.body)
	}
	st.down.Store(true)
	r = e.do(t, "GET", "/v1/status", admin, "")
	if r.status != 200 {
		t.Fatalf("status with the store away: %d %s", r.status, r.body)
	}
	if r.decode(t, &got); !got.Degraded || got.Store.Reachable {
		t.Errorf("status with the store away: %+v", got)
	}
	if n := st.failed.Load(); n != 0 {
		t.Errorf("GET /v1/status with the store away asked the store %d times; the token verified before needs no store read", n)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/zones", ""},
		{"POST", "/v1/zones", createExample},
	} {
		before := st.failed.Load()
		r = e.do(t, c.method, c.path, admin, c.body)
		if ae := r.apiError(t); r.status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "the store is unreachable: ") || !strings.HasSuffix(ae.Message, "; retry") {
			t.Errorf("%s %s with the store away: %d %s", c.method, c.path, r.status, r.body)
		}
		// Each store call waits out the request timeout: the call's own,
		// not one for the token first.
		if n := st.failed.Load() - before; n != 1 {
			t.Errorf("%s %s with the store away: %d store calls failed, want 1", c.method, c.path, n)
		}
	}
	st.down.Store(false)
	if r = e.do(t, "POST", "/v1/zones", admin, createExample); r.status != http.StatusCreated {
		t.Fatalf("create after the store came back: %d %s", r.status, r.body)
	}
}
