package control

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

var otherAuditKey = []byte("ZZZZ456789abcdef0123456789abcdef")

// keyID returns the audit key identity the store holds ("" for none).
func keyID(t *testing.T, st store.Store) string {
	t.Helper()
	var id string
	if err := st.View(ctx, func(tx store.ReadTx) error {
		b, ok, err := tx.Get(schema.AuditKeyIDKey)
		if err != nil || !ok {
			return err
		}
		k, err := schema.DecodeAuditKeyID(schema.AuditKeyIDKey, b)
		if err == nil {
			id = k.ID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAuditCheckKeyMixed: the first node to start keeps its key's
// identity in the store; a node with another key is refused after it,
// whether or not the log holds anything yet.
func TestAuditCheckKeyMixed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
	}{
		{"empty log", func(*testing.T, *env) {}},
		{"a stream", func(t *testing.T, e *env) { mustCreate(t, e, "example.com.", "") }},
		{"every stream pruned", func(t *testing.T, e *env) {
			mustCreate(t, e, "example.com.", "")
			if res, err := e.svc.Audit.Prune(ctx, e.now.Add(DefaultAuditRetention+time.Hour)); err != nil || res.Dropped != 1 {
				t.Fatalf("prune: %+v %v", res, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{AuditKey: testAuditKey})
			if err := e.svc.Audit.CheckKey(ctx); err != nil {
				t.Fatalf("the first node: %v", err)
			}
			if got := keyID(t, e.st); got != audit.KeyID(testAuditKey) {
				t.Fatalf("key id %q, want the first node's", got)
			}
			tc.setup(t, e)
			other := New(e.st, e.pub, Options{AuditKey: otherAuditKey, Clock: func() time.Time { return e.now }})
			if err := other.Audit.CheckKey(ctx); err == nil || !strings.Contains(err.Error(), "audit.key_file") {
				t.Errorf("a node with another key: %v, want refused naming audit.key_file", err)
			}
			if err := e.svc.Audit.CheckKey(ctx); err != nil {
				t.Errorf("the first node again: %v", err)
			}
			rep, err := other.Audit.Verify(ctx)
			if err != nil || rep.OK() || rep.Problems[0].Key != schema.AuditKeyIDKey {
				t.Errorf("verify with another key: %+v %v, want the key identity reported", rep, err)
			}
			if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
	}
}

// TestAuditCheckKeyTogether: nodes with different keys starting at once
// on an empty store: one key's identity is kept, and only its node
// starts.
func TestAuditCheckKeyTogether(t *testing.T) {
	for round := range 10 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			e := newEnv(t, Options{AuditKey: testAuditKey})
			keys := [][]byte{testAuditKey, otherAuditKey, []byte("YYYY456789abcdef0123456789abcdef")}
			errs := make([]error, len(keys))
			var wg sync.WaitGroup
			for i, k := range keys {
				p := New(e.st, e.pub, Options{AuditKey: k})
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = p.Audit.CheckKey(ctx)
				}()
			}
			wg.Wait()
			id, started := keyID(t, e.st), 0
			for i, err := range errs {
				if err == nil {
					started++
					if id != audit.KeyID(keys[i]) {
						t.Errorf("node %d started, but the store keeps another key's identity", i)
					}
				} else if !strings.Contains(err.Error(), "audit.key_file") {
					t.Errorf("node %d: %v", i, err)
				}
			}
			if started != 1 {
				t.Errorf("%d nodes started (%v), want 1", started, errs)
			}
		})
	}
}

// TestAuditCheckKeyOldStore: a store whose log was written before the
// key's identity was kept: a key that verifies any of its heads is the
// log's, however many do not, and its identity is kept then; a key that
// verifies none is refused and keeps nothing.
func TestAuditCheckKeyOldStore(t *testing.T) {
	bogus := func(e *env, n int) {
		kv := map[string][]byte{}
		for i := range n {
			s := fmt.Sprintf("a%d", i) // sorts before every stream of the log
			kv[schema.AuditHeadKey(s)] = []byte(`{"stream":"` + s + `","seq":1,"mac":"00","time":"2020-01-01T00:00:00Z","head_mac":"00"}`)
		}
		write(t, e.st, kv)
	}
	tests := []struct {
		name   string
		bogus  int // heads no key verifies, before the log's
		key    []byte
		wantOK bool
	}{
		{"the log's key", 0, testAuditKey, true},
		{"the log's key after 20 heads it does not verify", 20, testAuditKey, true},
		{"another key", 0, otherAuditKey, false},
		{"another key after 20 heads", 20, otherAuditKey, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := auditedZone(t, Options{}, 1) // no CheckKey: no identity kept
			bogus(e, tc.bogus)
			p := New(e.st, e.pub, Options{AuditKey: tc.key})
			err := p.Audit.CheckKey(ctx)
			if tc.wantOK {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id := keyID(t, e.st); id != audit.KeyID(tc.key) {
					t.Errorf("key id %q, want the key's", id)
				}
				// From now on the identity decides.
				other := New(e.st, e.pub, Options{AuditKey: otherAuditKey})
				if err := other.Audit.CheckKey(ctx); err == nil {
					t.Errorf("another key passes once the identity is kept")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "audit.key_file") {
				t.Errorf("another key: %v, want refused naming audit.key_file", err)
			}
			if id := keyID(t, e.st); id != "" {
				t.Errorf("a refused key kept its identity %q", id)
			}
			if err := e.svc.Audit.CheckKey(ctx); err != nil {
				t.Errorf("the log's key after it: %v", err)
			}
		})
	}
}
