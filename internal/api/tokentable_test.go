package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// countingStore counts reads, and holds back what its watchers are given
// while held: a node that has not seen the latest revisions yet.
type countingStore struct {
	store.Store
	views atomic.Int64
	hold  sync.RWMutex // write-locked: watchers wait
}

func (s *countingStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

func (s *countingStore) Watch(ctx context.Context, from store.Revision, fn func(store.Batch) error) error {
	return s.Store.Watch(ctx, from, func(b store.Batch) error {
		s.hold.RLock()
		defer s.hold.RUnlock()
		return fn(b)
	})
}

type tokenEnv struct {
	*apiEnv
	st  *countingStore
	pub *publish.Publisher
}

func newTokenAPI(t *testing.T) *tokenEnv {
	t.Helper()
	return newTokenAPIOpts(t, Options{})
}

// newTokenAPIOpts is newTokenAPI with the API's options (Status is set).
func newTokenAPIOpts(t *testing.T, opts Options) *tokenEnv {
	t.Helper()
	bst, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: bst}
	pub := publish.New(st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; bst.Close() })
	<-pub.Ready()
	plane := control.New(st, pub, control.Options{})
	admin, _, err := plane.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	status := func() apiv1.Status { return apiv1.Status{Store: apiv1.StoreStatus{Reachable: true}} }
	opts.Status = status
	srv := httptest.NewServer(New(PlaneControl(plane), opts))
	t.Cleanup(srv.Close)
	return &tokenEnv{apiEnv: &apiEnv{srv: srv, svc: plane, admin: admin}, st: st, pub: pub}
}

// putTokenInStore writes a token's record straight into the store, as
// another node would, and returns the token and the revision.
func (e *tokenEnv) putTokenInStore(t *testing.T, name string) (string, auth.Token, store.Revision) {
	t.Helper()
	tok, rec, err := auth.Generate()
	if err != nil {
		t.Fatal(err)
	}
	rec.Name, rec.Scopes = name, []string{auth.ScopeAll}
	b, err := schema.EncodeToken(&rec)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := e.st.Update(context.Background(), func(tx store.Tx) error { return tx.Put(schema.TokenKey(rec.ID), b) })
	if err != nil {
		t.Fatal(err)
	}
	return tok, rec, rev
}

// TestKnownTokenNoStoreRead: a request with a token the node has seen
// reads nothing from the store to authenticate; a wrong secret for it is
// refused without one either.
func TestKnownTokenNoStoreRead(t *testing.T) {
	e := newTokenAPI(t)
	before := e.st.views.Load()
	for range 5 {
		if r := e.do(t, "GET", "/v1/status", e.admin, ""); r.status != http.StatusOK {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
	}
	if r := e.do(t, "GET", "/v1/status", e.admin+"x", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %d %s", r.status, r.body)
	}
	if n := e.st.views.Load() - before; n != 0 {
		t.Errorf("6 requests with a known token read the store %d times, want 0", n)
	}
}

// TestTokenNotSeenYetAccepted: a token created a moment ago elsewhere,
// which this node has not seen, is looked up in the store and accepted
// (read-your-writes across nodes).
func TestTokenNotSeenYetAccepted(t *testing.T) {
	e := newTokenAPI(t)
	e.st.hold.Lock()
	held := true
	defer func() {
		if held {
			e.st.hold.Unlock()
		}
	}()
	tok, _, rev := e.putTokenInStore(t, "elsewhere")
	before := e.st.views.Load()
	if r := e.do(t, "GET", "/v1/status", tok, ""); r.status != http.StatusOK {
		t.Fatalf("a token the node has not seen: %d %s", r.status, r.body)
	}
	if e.pub.Revision() >= rev {
		t.Fatal("the node saw the token before the request: the test shows nothing")
	}
	if n := e.st.views.Load() - before; n != 1 {
		t.Errorf("the request read the store %d times, want 1", n)
	}
	e.st.hold.Unlock()
	held = false
	if err := e.pub.WaitFor(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	before = e.st.views.Load()
	if r := e.do(t, "GET", "/v1/status", tok, ""); r.status != http.StatusOK {
		t.Fatalf("the token once seen: %d %s", r.status, r.body)
	}
	if n := e.st.views.Load() - before; n != 0 {
		t.Errorf("the token once seen read the store %d times, want 0", n)
	}
}

// TestDeletedTokenRefusedOnceSeen: a token deleted elsewhere stops
// working here as soon as this node has seen the deletion.
func TestDeletedTokenRefusedOnceSeen(t *testing.T) {
	e := newTokenAPI(t)
	tok, rec, rev := e.putTokenInStore(t, "doomed")
	if err := e.pub.WaitFor(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/v1/status", tok, ""); r.status != http.StatusOK {
		t.Fatalf("before the deletion: %d %s", r.status, r.body)
	}
	rev, err := e.st.Update(context.Background(), func(tx store.Tx) error { return tx.Delete(schema.TokenKey(rec.ID)) })
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pub.WaitFor(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/v1/status", tok, ""); r.status != http.StatusUnauthorized {
		t.Errorf("after the node saw the deletion: %d %s", r.status, r.body)
	}
	// Deleted through this node's API: refused once the DELETE answers.
	r := e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"short","scopes":["zones:read"]}`)
	var ct apiv1.CreatedToken
	r.decode(t, &ct)
	if r := e.do(t, "GET", "/v1/status", ct.Secret, ""); r.status != http.StatusOK {
		t.Fatalf("a token just created: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/tokens/"+ct.ID, e.admin, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/status", ct.Secret, ""); r.status != http.StatusUnauthorized {
		t.Errorf("after DELETE: %d %s", r.status, r.body)
	}
}
