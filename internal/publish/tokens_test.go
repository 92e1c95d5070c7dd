package publish_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// TestTokenTable: the publisher's token table holds the tokens stored
// when it loads and follows later revisions; a record that cannot be read
// is left out of it, and a token whose record becomes unreadable leaves it.
func TestTokenTable(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	put := func(key string, value []byte) store.Revision {
		t.Helper()
		rev, err := st.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) })
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	newToken := func(name string) (string, auth.Token) {
		tok, rec, err := auth.Generate()
		if err != nil {
			t.Fatal(err)
		}
		rec.Name, rec.Scopes = name, []string{auth.ScopeZonesRead}
		b, err := schema.EncodeToken(&rec)
		if err != nil {
			t.Fatal(err)
		}
		put(schema.TokenKey(rec.ID), b)
		return tok, rec
	}
	loaded, _ := newToken("loaded")
	put(schema.TokenKey("0123456789ab"), []byte("null"))

	pub := publish.New(st, nil)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(cctx) }()
	defer func() { cancel(); <-done }()
	<-pub.Ready()
	tab := pub.Tokens()
	if p, known := tab.Authenticate(loaded); !known || p == nil || p.Name != "loaded" {
		t.Fatalf("a token stored before the load: %+v, %v", p, known)
	}
	if tab.Len() != 1 {
		t.Errorf("the table holds %d tokens, want 1 (the unreadable record left out)", tab.Len())
	}

	later, rec := newToken("later")
	rev := put(schema.TokenKey("000000000000"), []byte("null"))
	if err := pub.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if p, known := tab.Authenticate(later); !known || p == nil || p.TokenID != rec.ID {
		t.Errorf("a token stored after the load: %+v, %v", p, known)
	}
	if tab.Len() != 2 {
		t.Errorf("the table holds %d tokens, want 2", tab.Len())
	}
	rev = put(schema.TokenKey(rec.ID), []byte(`{"id":"someone else"}`))
	if err := pub.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, known := tab.Authenticate(later); known {
		t.Error("a token whose record cannot be read is still in the table")
	}
}
