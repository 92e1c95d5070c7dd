// Package controltest starts a control plane for tests: a bolt store in
// the test's temporary directory, its publisher (publish.Publisher)
// running, and the plane.
package controltest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// New returns a control plane on a fresh store, stopped when the test
// ends.
func New(t testing.TB, opts control.Options) (*control.Plane, *publish.Publisher) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pub := publish.New(st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	<-pub.Ready()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return control.New(st, pub, opts), pub
}
