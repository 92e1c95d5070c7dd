package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// SessionFactory opens the store.Shared under test.
type SessionFactory struct {
	// Cluster makes a new, empty cluster for one test and returns how to
	// open a node's view of it: the Shared its sessions are opened on and
	// the Store its fenced writes go to. Each call of the returned
	// function may give a new client of the same cluster (store/etcd) or
	// the same values (store/local). Whatever it opens is closed by the
	// factory when the test ends.
	Cluster func(t *testing.T) func(t *testing.T) (store.Shared, store.Store)
	// TTL is the session ttl the suite asks for.
	TTL time.Duration
}

// RunSessions runs the session suite (store.Shared, Session, Term) against
// f, one subtest per property.
func RunSessions(t *testing.T, f SessionFactory) {
	if f.Cluster == nil || f.TTL <= 0 {
		t.Fatal("storetest: SessionFactory needs Cluster and a positive TTL")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, func(*testing.T) *node)
	}{
		{"EphemeralVisibleAndGoneAfterClose", testEphemeralVisible},
		{"EphemeralNotRevisioned", testEphemeralNotRevisioned},
		{"EphemeralDeleteOwnOnly", testEphemeralDeleteOwnOnly},
		{"EphemeralApply", testEphemeralApply},
		{"EphemeralApplyLargeValues", testEphemeralApplyLarge},
		{"EphemeralApplyRefusesOthersKeys", testEphemeralApplyOthers},
		{"WatchEphemeral", testWatchEphemeral},
		{"EphemeralOwner", testEphemeralOwner},
		{"WatchEphemeralReturns", testWatchEphemeralReturns},
		{"CampaignWaitsForLeader", testCampaignWaits},
		{"LeaderValues", testLeaderValues},
		{"SecondCampaignWaitsForFirstTerm", testSecondCampaign},
		{"CampaignCancelled", testCampaignCancelled},
		{"FencedUpdateAfterResign", testFencedAfterResign},
		{"FencedUpdateAfterSessionClosed", testFencedAfterClose},
		{"DuplicateNode", testDuplicateNode},
		{"SessionEnded", testSessionEnded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster := f.Cluster(t)
			tc.fn(t, func(t *testing.T) *node {
				sh, st := cluster(t)
				return &node{sh: sh, st: st, ttl: f.TTL}
			})
		})
	}
}

// node is one node's view of the cluster under test.
type node struct {
	sh  store.Shared
	st  store.Store
	ttl time.Duration
}

// session opens name's session on n, closed when the test ends.
func (n *node) session(t *testing.T, name string) store.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := n.sh.Session(ctx, name, n.ttl)
	if err != nil {
		t.Fatalf("Session(%q): %v", name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// list returns the ephemeral keys under prefix as "k=v" strings.
func list(t *testing.T, s store.Session, prefix string) string {
	t.Helper()
	evs, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return eventsString(evs)
}

func eventsString(evs []store.Event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if e.Deleted {
			fmt.Fprintf(&b, "-%s", e.Key)
		} else {
			fmt.Fprintf(&b, "%s=%s", e.Key, e.Value)
		}
	}
	return b.String()
}

// closed reports whether ch is closed, waiting up to timeout for it.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func ctxT() context.Context { return context.Background() }

func mustPut(t *testing.T, s store.Session, k, v string) {
	t.Helper()
	if err := s.Put(ctxT(), k, []byte(v)); err != nil {
		t.Fatalf("Put(%q): %v", k, err)
	}
}

func campaign(t *testing.T, s store.Session, election, value string) store.Term {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	term, err := s.Campaign(ctx, election, []byte(value))
	if err != nil {
		t.Fatalf("%s: Campaign(%q): %v", s.Node(), election, err)
	}
	return term
}

func leader(t *testing.T, s store.Session, election string) string {
	t.Helper()
	v, err := s.Leader(ctxT(), election)
	if errors.Is(err, store.ErrNoLeader) {
		return "<none>"
	}
	if err != nil {
		t.Fatalf("Leader(%q): %v", election, err)
	}
	return string(v)
}

func testEphemeralVisible(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, a, "members/a", "1")
	mustPut(t, b, "members/b", "2")
	mustPut(t, a, "other/a", "3")
	if got, want := list(t, b, "members/"), "members/a=1 members/b=2"; got != want {
		t.Fatalf("b lists %q, want %q", got, want)
	}
	if got, want := list(t, a, ""), "members/a=1 members/b=2 other/a=3"; got != want {
		t.Fatalf("a lists %q, want %q", got, want)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !closed(a.Done()) {
		t.Fatal("Done not closed after Close")
	}
	if got, want := list(t, b, ""), "members/b=2"; got != want {
		t.Fatalf("after a closed, b lists %q, want %q", got, want)
	}
}

func testEphemeralNotRevisioned(t *testing.T, open func(*testing.T) *node) {
	n := open(t)
	a := n.session(t, "a")
	put(t, n.st, "data", "0")
	rev, err := n.st.Revision(ctxT())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan store.Batch, 1)
	go func() {
		_ = n.st.Watch(ctx, rev, func(b store.Batch) error {
			got <- b
			return errBoom
		})
	}()
	mustPut(t, a, "data", "ephemeral")
	if err := a.Delete(ctxT(), "data"); err != nil {
		t.Fatal(err)
	}
	if r, err := n.st.Revision(ctxT()); err != nil || r != rev {
		t.Fatalf("after ephemeral writes the store is at %d, %v; want %d", r, err, rev)
	}
	if v, ok := get(t, n.st, "data"); !ok || v != "0" {
		t.Fatalf("store key data = %q, %v; want the stored 0", v, ok)
	}
	put(t, n.st, "data", "1")
	select {
	case b := <-got:
		if b.Revision != rev+1 || eventsString(b.Events) != "data=1" {
			t.Fatalf("Watch saw revision %d %s, want only the store's write at %d", b.Revision, eventsString(b.Events), rev+1)
		}
	case <-time.After(timeout):
		t.Fatal("Watch saw nothing")
	}
}

func testEphemeralDeleteOwnOnly(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, a, "k", "a")
	if err := b.Delete(ctxT(), "k"); err == nil || !strings.Contains(err.Error(), `"k"`) {
		t.Fatalf("b deleting a's key: %v, want an error naming the key", err)
	}
	if err := b.Delete(ctxT(), "missing"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if got := list(t, b, ""); got != "k=a" {
		t.Fatalf("after refused delete: %q", got)
	}
	// A Put takes the key over; then a's Close leaves it.
	mustPut(t, b, "k", "b")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := list(t, b, ""); got != "k=b" {
		t.Fatalf("after a closed: %q, want b's key", got)
	}
	if err := a.Put(ctxT(), "", nil); err == nil {
		t.Fatal("Put of an empty key succeeded")
	}
}

// watchRecorder runs WatchEphemeral and hands each batch to a channel.
func watchRecorder(t *testing.T, s store.Session, prefix string) (<-chan store.EphemeralBatch, <-chan error, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan store.EphemeralBatch, 100)
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		errc <- s.WatchEphemeral(ctx, prefix, func(b store.EphemeralBatch) error {
			select {
			case ch <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return ch, errc, cancel
}

// nextBatch waits for the next batch.
func nextBatch(t *testing.T, ch <-chan store.EphemeralBatch) store.EphemeralBatch {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(timeout):
		t.Fatal("no batch")
		return store.EphemeralBatch{}
	}
}

// collect waits for batches until their events, joined, are want.
func collect(t *testing.T, ch <-chan store.EphemeralBatch, want string) {
	t.Helper()
	var got []store.Event
	for eventsString(got) != want {
		if len(eventsString(got)) > len(want) {
			t.Fatalf("events %q, want %q", eventsString(got), want)
		}
		b := nextBatch(t, ch)
		if b.Reset {
			t.Fatalf("unexpected Reset batch %q", eventsString(b.Events))
		}
		got = append(got, b.Events...)
	}
}

func testWatchEphemeral(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, a, "v/x", "1")
	mustPut(t, b, "v/w", "0")
	ch, _, _ := watchRecorder(t, b, "v/")
	first := nextBatch(t, ch)
	if !first.Reset || eventsString(first.Events) != "v/w=0 v/x=1" {
		t.Fatalf("first batch: reset %v %q, want a Reset with v/w=0 v/x=1", first.Reset, eventsString(first.Events))
	}
	mustPut(t, a, "other", "no")
	mustPut(t, a, "v/y", "2")
	collect(t, ch, "v/y=2")
	mustPut(t, a, "v/x", "3")
	collect(t, ch, "v/x=3")
	if err := a.Delete(ctxT(), "v/x"); err != nil {
		t.Fatal(err)
	}
	collect(t, ch, "-v/x")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	collect(t, ch, "-v/y")
}

// owned returns the ephemeral keys of evs as "k@owner" strings.
func owned(evs []store.Event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if e.Deleted {
			fmt.Fprintf(&b, "-%s", e.Key)
		} else {
			fmt.Fprintf(&b, "%s@%s", e.Key, e.Owner)
		}
	}
	return b.String()
}

// testEphemeralOwner: List and WatchEphemeral name the node whose live
// session holds each key, also after another session took the key, and
// for a session opened after the watch began.
func testEphemeralOwner(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, a, "v/x", "1")
	mustPut(t, b, "v/y", "2")
	evs, err := a.List(ctxT(), "v/")
	if err != nil {
		t.Fatal(err)
	}
	if got := owned(evs); got != "v/x@a v/y@b" {
		t.Fatalf("List owners %q, want v/x@a v/y@b", got)
	}
	ch, _, _ := watchRecorder(t, a, "v/")
	if first := nextBatch(t, ch); !first.Reset || owned(first.Events) != "v/x@a v/y@b" {
		t.Fatalf("first batch: reset %v %q, want a Reset with v/x@a v/y@b", first.Reset, owned(first.Events))
	}
	next := func(want string) {
		t.Helper()
		var got []store.Event
		for owned(got) != want && len(owned(got)) <= len(want) {
			got = append(got, nextBatch(t, ch).Events...)
		}
		if owned(got) != want {
			t.Fatalf("events %q, want %q", owned(got), want)
		}
	}
	mustPut(t, b, "v/x", "3") // b takes a's key
	next("v/x@b")
	c := open(t).session(t, "c")
	mustPut(t, c, "v/z", "4")
	next("v/z@c")
	if evs, err = b.List(ctxT(), "v/"); err != nil {
		t.Fatal(err)
	}
	if got := owned(evs); got != "v/x@b v/y@b v/z@c" {
		t.Fatalf("List owners %q, want v/x@b v/y@b v/z@c", got)
	}
}

func testWatchEphemeralReturns(t *testing.T, open func(*testing.T) *node) {
	n := open(t)
	a := n.session(t, "a")
	mustPut(t, a, "k", "v")
	// fn's error.
	err := a.WatchEphemeral(ctxT(), "", func(store.EphemeralBatch) error { return errBoom })
	if !errors.Is(err, errBoom) {
		t.Fatalf("WatchEphemeral with failing fn: %v, want fn's error", err)
	}
	// ctx done.
	_, errc, cancel := watchRecorder(t, a, "")
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WatchEphemeral after cancel: %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("WatchEphemeral did not return after cancel")
	}
	// The session ends.
	ch, errc, _ := watchRecorder(t, a, "")
	nextBatch(t, ch)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, store.ErrSessionEnded) {
			t.Fatalf("WatchEphemeral after Close: %v, want ErrSessionEnded", err)
		}
	case <-time.After(timeout):
		t.Fatal("WatchEphemeral did not return after Close")
	}
}

// campaignAsync campaigns in a goroutine; the term (or error) arrives on
// the returned channel.
func campaignAsync(ctx context.Context, s store.Session, election, value string) <-chan termResult {
	ch := make(chan termResult, 1)
	go func() {
		t, err := s.Campaign(ctx, election, []byte(value))
		ch <- termResult{t, err}
	}()
	return ch
}

type termResult struct {
	term store.Term
	err  error
}

// notYet fails t when r delivers within the quiet period.
func notYet(t *testing.T, r <-chan termResult, what string) {
	t.Helper()
	select {
	case res := <-r:
		t.Fatalf("%s returned early: %v", what, res.err)
	case <-time.After(quiet):
	}
}

func wait(t *testing.T, r <-chan termResult, what string) store.Term {
	t.Helper()
	select {
	case res := <-r:
		if res.err != nil {
			t.Fatalf("%s: %v", what, res.err)
		}
		return res.term
	case <-time.After(timeout):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func testCampaignWaits(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	ta := campaign(t, a, "reaper", "a")
	rb := campaignAsync(ctxT(), b, "reaper", "b")
	notYet(t, rb, "b's Campaign while a leads")
	if got := leader(t, b, "reaper"); got != "a" {
		t.Fatalf("leader %q, want a", got)
	}
	if isClosed(ta.Done()) {
		t.Fatal("a's term ended while it leads")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !closed(ta.Done()) {
		t.Fatal("a's term did not end with its session")
	}
	tb := wait(t, rb, "b's Campaign after a closed")
	if got := leader(t, b, "reaper"); got != "b" {
		t.Fatalf("leader %q, want b", got)
	}
	if isClosed(tb.Done()) {
		t.Fatal("b's term ended at once")
	}
}

func testLeaderValues(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	if got := leader(t, b, "drills"); got != "<none>" {
		t.Fatalf("leader before any campaign: %q", got)
	}
	ta := campaign(t, a, "drills", "node a at 10.0.0.1")
	tb := campaign(t, b, "notify", "node b")
	for _, c := range []struct{ election, want string }{{"drills", "node a at 10.0.0.1"}, {"notify", "node b"}} {
		for _, s := range []store.Session{a, b} {
			if got := leader(t, s, c.election); got != c.want {
				t.Errorf("%s sees leader of %s %q, want %q", s.Node(), c.election, got, c.want)
			}
		}
	}
	if err := ta.Resign(ctxT()); err != nil {
		t.Fatal(err)
	}
	if !closed(ta.Done()) {
		t.Fatal("term not ended by Resign")
	}
	if got := leader(t, b, "drills"); got != "<none>" {
		t.Fatalf("leader after resign: %q", got)
	}
	if got := leader(t, a, "notify"); got != "node b" || isClosed(tb.Done()) {
		t.Fatalf("another election changed: %q", got)
	}
}

func testSecondCampaign(t *testing.T, open func(*testing.T) *node) {
	a := open(t).session(t, "a")
	t1 := campaign(t, a, "e", "first")
	r2 := campaignAsync(ctxT(), a, "e", "second")
	notYet(t, r2, "a second Campaign while the first term lasts")
	if err := t1.Resign(ctxT()); err != nil {
		t.Fatal(err)
	}
	t2 := wait(t, r2, "the second Campaign after the first resigned")
	if got := leader(t, a, "e"); got != "second" {
		t.Fatalf("leader %q, want second", got)
	}
	if isClosed(t2.Done()) || !isClosed(t1.Done()) {
		t.Fatal("terms in the wrong state")
	}
}

func testCampaignCancelled(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	ta := campaign(t, a, "e", "a")
	ctx, cancel := context.WithCancel(context.Background())
	rb := campaignAsync(ctx, b, "e", "b")
	notYet(t, rb, "b's Campaign")
	cancel()
	select {
	case res := <-rb:
		if !errors.Is(res.err, context.Canceled) {
			t.Fatalf("cancelled Campaign: %v, want context.Canceled", res.err)
		}
	case <-time.After(timeout):
		t.Fatal("cancelled Campaign did not return")
	}
	if err := ta.Resign(ctxT()); err != nil {
		t.Fatal(err)
	}
	if got := leader(t, a, "e"); got != "<none>" {
		t.Fatalf("after a resigned the cancelled candidate leads: %q", got)
	}
	// b can campaign again.
	campaign(t, b, "e", "b again")
}

// fencedPut writes key=value under ctx and counts fn's runs.
func fencedPut(ctx context.Context, s store.Store, key, value string, runs *atomic.Int32) (store.Revision, error) {
	return s.Update(ctx, func(tx store.Tx) error {
		runs.Add(1)
		if _, _, err := tx.Get(key); err != nil {
			return err
		}
		return tx.Put(key, []byte(value))
	})
}

// checkFenced asserts that a write under the ended term's fence fails with
// ErrFenced, runs fn at most once, and changes nothing.
func checkFenced(t *testing.T, st store.Store, fenced context.Context, key string) {
	t.Helper()
	rev, err := st.Revision(ctxT())
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	if _, err := fencedPut(fenced, st, key, "late", &runs); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("fenced Update after the term ended: %v, want ErrFenced", err)
	}
	if n := runs.Load(); n > 1 {
		t.Fatalf("fenced Update ran fn %d times", n)
	}
	if r, err := st.Revision(ctxT()); err != nil || r != rev {
		t.Fatalf("after a fenced Update the store is at %d, %v; want %d", r, err, rev)
	}
	if v, ok := get(t, st, key); ok {
		t.Fatalf("fenced Update wrote %s=%q", key, v)
	}
	// Reads with the fenced context are as ever.
	if err := st.View(fenced, func(tx store.ReadTx) error { _, _, err := tx.Get(key); return err }); err != nil {
		t.Fatalf("View with a fenced context: %v", err)
	}
}

func testFencedAfterResign(t *testing.T, open func(*testing.T) *node) {
	n := open(t)
	a := n.session(t, "a")
	ta := campaign(t, a, "e", "a")
	fenced := ta.Fence(ctxT())
	var runs atomic.Int32
	if _, err := fencedPut(fenced, n.st, "during", "1", &runs); err != nil {
		t.Fatalf("fenced Update while leading: %v", err)
	}
	if err := ta.Resign(ctxT()); err != nil {
		t.Fatal(err)
	}
	checkFenced(t, n.st, fenced, "after")
	// Unfenced writes are unaffected.
	put(t, n.st, "unfenced", "1")
	if v, _ := get(t, n.st, "during"); v != "1" {
		t.Fatalf("the write made while leading is %q", v)
	}
}

func testFencedAfterClose(t *testing.T, open func(*testing.T) *node) {
	na, nb := open(t), open(t)
	a, b := na.session(t, "a"), nb.session(t, "b")
	ta := campaign(t, a, "e", "a")
	fenced := ta.Fence(ctxT())
	rb := campaignAsync(ctxT(), b, "e", "b")
	notYet(t, rb, "b's Campaign")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	tb := wait(t, rb, "b's Campaign")
	checkFenced(t, na.st, fenced, "late")
	var runs atomic.Int32
	if _, err := fencedPut(tb.Fence(ctxT()), nb.st, "new", "b", &runs); err != nil {
		t.Fatalf("the new leader's fenced Update: %v", err)
	}
	if v, _ := get(t, na.st, "new"); v != "b" {
		t.Fatalf("the new leader's write: %q", v)
	}
}

func testDuplicateNode(t *testing.T, open func(*testing.T) *node) {
	n1, n2 := open(t), open(t)
	a := n1.session(t, "node-1")
	_, err := n2.sh.Session(ctxT(), "node-1", n2.ttl)
	if err == nil || !strings.Contains(err.Error(), `"node-1"`) {
		t.Fatalf("second live session of node-1: %v, want an error naming the node", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	n2.session(t, "node-1")
	if _, err := n1.sh.Session(ctxT(), "", n1.ttl); err == nil {
		t.Fatal("a session with an empty node name opened")
	}
}

func testSessionEnded(t *testing.T, open func(*testing.T) *node) {
	n := open(t)
	a := n.session(t, "a")
	if a.Node() != "a" {
		t.Fatalf("Node() = %q", a.Node())
	}
	if isClosed(a.Done()) {
		t.Fatal("Done closed on a live session")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(a.Done()) {
		t.Fatal("Done open after Close returned")
	}
	if err := a.Put(ctxT(), "k", nil); !errors.Is(err, store.ErrSessionEnded) {
		t.Errorf("Put after Close: %v", err)
	}
	if err := a.Delete(ctxT(), "k"); !errors.Is(err, store.ErrSessionEnded) {
		t.Errorf("Delete after Close: %v", err)
	}
	if _, err := a.Campaign(ctxT(), "e", nil); !errors.Is(err, store.ErrSessionEnded) {
		t.Errorf("Campaign after Close: %v", err)
	}
	if err := a.WatchEphemeral(ctxT(), "", func(store.EphemeralBatch) error { return nil }); !errors.Is(err, store.ErrSessionEnded) {
		t.Errorf("WatchEphemeral after Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// applyBatch is the number of keys the Apply tests write at once: more than
// one etcd transaction holds at etcd's default --max-txn-ops (128).
const applyBatch = 300

// follower keeps the state of the ephemeral keys under a prefix that a
// WatchEphemeral reports.
type follower struct {
	ch    <-chan store.EphemeralBatch
	state map[string]string
}

func follow(t *testing.T, s store.Session, prefix string) *follower {
	ch, _, _ := watchRecorder(t, s, prefix)
	f := &follower{ch: ch, state: map[string]string{}}
	b := nextBatch(t, ch)
	if !b.Reset {
		t.Fatalf("first batch is not a Reset: %q", eventsString(b.Events))
	}
	f.add(b)
	return f
}

func (f *follower) add(b store.EphemeralBatch) {
	if b.Reset {
		clear(f.state)
	}
	for _, e := range b.Events {
		if e.Deleted {
			delete(f.state, e.Key)
		} else {
			f.state[e.Key] = string(e.Value)
		}
	}
}

// until waits for batches until the state the watcher saw is want.
func (f *follower) until(t *testing.T, want map[string]string) {
	t.Helper()
	for !maps.Equal(f.state, want) {
		select {
		case b := <-f.ch:
			f.add(b)
		case <-time.After(timeout):
			t.Fatalf("the watcher sees %d keys, want %d (%s)", len(f.state), len(want), stateDiff(f.state, want))
		}
	}
}

// listed returns the ephemeral keys under prefix as a map.
func listed(t *testing.T, s store.Session, prefix string) map[string]string {
	t.Helper()
	evs, err := s.List(ctxT(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	m := make(map[string]string, len(evs))
	for _, e := range evs {
		m[e.Key] = string(e.Value)
	}
	return m
}

// stateDiff names the first few keys where got and want differ.
func stateDiff(got, want map[string]string) string {
	var d []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			d = append(d, fmt.Sprintf("%s: got %q want %q", k, g, v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s: got %q, want none", k, v))
		}
	}
	slices.Sort(d)
	if len(d) > 5 {
		d = append(d[:5], "...")
	}
	return strings.Join(d, "; ")
}

// testEphemeralApply: a batch larger than one etcd transaction, puts and
// deletes mixed, a key given twice and a missing key deleted, is seen
// whole by List and by another node's watcher; its keys vanish with the
// session.
func testEphemeralApply(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, b, "v/b", "b")
	w := follow(t, b, "v/")
	want := map[string]string{"v/b": "b"}
	var evs []store.Event
	for i := range applyBatch {
		k := fmt.Sprintf("v/a/%04d", i)
		evs = append(evs, store.Event{Key: k, Value: []byte("1")})
		want[k] = "1"
	}
	if err := a.Apply(ctxT(), evs); err != nil {
		t.Fatalf("Apply of %d puts: %v", len(evs), err)
	}
	if got := listed(t, b, "v/"); !maps.Equal(got, want) {
		t.Fatalf("after Apply of %d puts: %s", len(evs), stateDiff(got, want))
	}
	w.until(t, want)

	// Delete the even keys, change the odd ones, add as many new ones.
	evs = evs[:0]
	for i := range applyBatch {
		k := fmt.Sprintf("v/a/%04d", i)
		if i%2 == 0 {
			evs = append(evs, store.Event{Key: k, Deleted: true})
			delete(want, k)
		} else {
			evs = append(evs, store.Event{Key: k, Value: []byte("2")})
			want[k] = "2"
		}
		k = fmt.Sprintf("v/a/%04d", applyBatch+i)
		evs = append(evs, store.Event{Key: k, Value: []byte("3")})
		want[k] = "3"
	}
	// A key given twice takes its last event; a missing key deleted is
	// not an error.
	evs = append(evs,
		store.Event{Key: "v/a/twice", Value: []byte("first")},
		store.Event{Key: "v/a/missing", Deleted: true},
		store.Event{Key: "v/a/twice", Value: []byte("last")},
		store.Event{Key: "v/a/0001", Deleted: true},
		store.Event{Key: "v/a/0001", Value: []byte("again")})
	want["v/a/twice"], want["v/a/0001"] = "last", "again"
	if err := a.Apply(ctxT(), evs); err != nil {
		t.Fatalf("Apply of %d mixed events: %v", len(evs), err)
	}
	if got := listed(t, b, "v/"); !maps.Equal(got, want) {
		t.Fatalf("after Apply of mixed events: %s", stateDiff(got, want))
	}
	w.until(t, want)

	// An empty key fails the batch before anything is written.
	err := a.Apply(ctxT(), []store.Event{{Key: "v/a/new", Value: []byte("x")}, {Key: ""}})
	if !errors.Is(err, store.ErrEmptyKey) {
		t.Fatalf("Apply with an empty key: %v, want ErrEmptyKey", err)
	}
	if got := listed(t, b, "v/"); !maps.Equal(got, want) {
		t.Fatalf("a refused Apply wrote: %s", stateDiff(got, want))
	}
	if err := a.Apply(ctxT(), nil); err != nil {
		t.Fatalf("Apply of nothing: %v", err)
	}

	// The keys vanish with the session.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"v/b": "b"}
	if got := listed(t, b, "v/"); !maps.Equal(got, want) {
		t.Fatalf("after a closed: %s", stateDiff(got, want))
	}
	w.until(t, want)
	if err := a.Apply(ctxT(), []store.Event{{Key: "v/a/late", Value: []byte("x")}}); !errors.Is(err, store.ErrSessionEnded) {
		t.Fatalf("Apply after Close: %v, want ErrSessionEnded", err)
	}
}

// testEphemeralApplyLarge: a batch of values larger, together, than one
// etcd request may be (--max-request-bytes, default 1.5 MiB) is written.
func testEphemeralApplyLarge(t *testing.T, open func(*testing.T) *node) {
	a := open(t).session(t, "a")
	value := strings.Repeat("v", 64<<10)
	want := map[string]string{}
	var evs []store.Event
	for i := range 48 { // 3 MiB
		k := fmt.Sprintf("big/%02d", i)
		evs = append(evs, store.Event{Key: k, Value: []byte(value)})
		want[k] = value
	}
	if err := a.Apply(ctxT(), evs); err != nil {
		t.Fatalf("Apply of %d values of %d bytes: %v", len(evs), len(value), err)
	}
	if got := listed(t, a, "big/"); !maps.Equal(got, want) {
		t.Fatalf("after Apply: %d keys, want %d", len(got), len(want))
	}
}

// testEphemeralApplyOthers: a batch that deletes another session's key
// names the key in its error, leaves the key, and writes the rest.
func testEphemeralApplyOthers(t *testing.T, open func(*testing.T) *node) {
	a, b := open(t).session(t, "a"), open(t).session(t, "b")
	mustPut(t, b, "k/b", "b")
	mustPut(t, a, "k/a", "a")
	err := a.Apply(ctxT(), []store.Event{
		{Key: "k/new", Value: []byte("n")},
		{Key: "k/b", Deleted: true},
		{Key: "k/a", Deleted: true},
	})
	if err == nil || !strings.Contains(err.Error(), `"k/b"`) {
		t.Fatalf("a deleting b's key in a batch: %v, want an error naming the key", err)
	}
	if got, want := list(t, b, "k/"), "k/b=b k/new=n"; got != want {
		t.Fatalf("after the batch: %q, want %q", got, want)
	}
}
