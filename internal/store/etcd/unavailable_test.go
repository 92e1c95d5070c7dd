package etcd

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratusdns/stratus/internal/store"
)

// TestUnreachableClassified: timeouts and gRPC Unavailable are the store
// being unreachable; refusals (permission, limits, compaction) and the
// caller's cancellation are not.
func TestUnreachableClassified(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{status.Error(codes.Unavailable, "connection refused"), true},
		{status.Error(codes.DeadlineExceeded, "deadline"), true},
		{status.Error(codes.Unknown, "context deadline exceeded"), true}, // a member without quorum
		{status.Error(codes.Unknown, "other"), false},
		{rpctypes.ErrNoLeader, true},
		{rpctypes.ErrTimeout, true},
		{context.Canceled, false},
		{rpctypes.ErrPermissionDenied, false},
		{rpctypes.ErrTooManyOps, false},
		{rpctypes.ErrCompacted, false},
		{errors.New("other"), false},
	} {
		if got := unreachable(tc.err); got != tc.want {
			t.Errorf("unreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestFrozenEtcdUnavailable: with etcd frozen (SIGSTOP), reads, commits
// and Revision fail with store.ErrUnavailable once the request timeout
// has passed, instead of waiting for etcd; the commit wrote nothing, and
// once etcd runs again the store works.
func TestFrozenEtcdUnavailable(t *testing.T) {
	p, ep, err := startEtcd(t, "http", readyWith(Options{}))
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(func() { p.cmd.Process.Signal(syscall.SIGCONT); p.stop() })
	ctx := context.Background()
	s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: "frozen/", RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(v string) (store.Revision, error) {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(v)) })
	}
	if _, err := put("1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, err := put("2"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Update with etcd frozen: %v, want store.ErrUnavailable", err)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Revision with etcd frozen: %v, want store.ErrUnavailable", err)
	}
	err = s.View(ctx, func(tx store.ReadTx) error { _, _, err := tx.Get("k"); return err })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("View with etcd frozen: %v, want store.ErrUnavailable", err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var rev store.Revision
	for rev, err = put("3"); errors.Is(err, store.ErrUnavailable); rev, err = put("3") {
	}
	if err != nil {
		t.Fatalf("Update after etcd resumed: %v", err)
	}
	var got []byte
	if err := s.View(ctx, func(tx store.ReadTx) error { got, _, err = tx.Get("k"); return err }); err != nil || string(got) != "3" {
		t.Fatalf("after resuming: k = %q, %v at %d", got, err, rev)
	}
}
