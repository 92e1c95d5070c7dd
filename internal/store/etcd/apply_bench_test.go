package etcd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// BenchmarkPublishVotes measures how long one node takes to publish n
// changed health votes (ephemeral keys of about the size healthview
// writes) on the etcd the tests start: one Put a key, one after another,
// against one Session.Apply. ns/op is until the writer returns;
// last-seen-ms is until another node's WatchEphemeral has seen the last
// change.
//
//	go test -run '^$' -bench PublishVotes -benchtime 3x ./internal/store/etcd
func BenchmarkPublishVotes(b *testing.B) {
	ep := etcdEndpoint(b)
	for _, n := range []int{1000, 5000} {
		for _, mode := range []string{"put-each", "apply"} {
			b.Run(fmt.Sprintf("votes=%d/%s", n, mode), func(b *testing.B) {
				benchPublish(b, ep, n, mode == "apply")
			})
		}
	}
}

func benchPublish(b *testing.B, ep string, n int, batch bool) {
	ctx := context.Background()
	prefix := fmt.Sprintf("bench-%d/", time.Now().UnixNano())
	open := func() (store.Session, func()) {
		s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		se, err := s.Session(ctx, fmt.Sprintf("n%p", s), 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		return se, func() { _ = se.Close(); _ = s.Close() }
	}
	writer, closeW := open()
	defer closeW()
	reader, closeR := open()
	defer closeR()

	// The reader follows the votes; seen gets the round a key's last
	// change carried once the last key of that round arrived.
	seen := make(chan int, 1)
	last := fmt.Sprintf("health/votes/a/svc.example.|endpoint-%05d", n-1)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = reader.WatchEphemeral(wctx, "health/votes/", func(eb store.EphemeralBatch) error {
			for _, e := range eb.Events {
				if e.Key == last && !e.Deleted {
					var round int
					fmt.Sscanf(string(e.Value), `{"round":%d`, &round)
					select {
					case seen <- round:
					default:
					}
				}
			}
			return nil
		})
	}()
	defer func() { cancel(); <-done }()

	pad := strings.Repeat("x", 120) // a vote's JSON is about 150 bytes
	var seenTotal time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		evs := make([]store.Event, n)
		for k := range evs {
			evs[k] = store.Event{
				Key:   fmt.Sprintf("health/votes/a/svc.example.|endpoint-%05d", k),
				Value: []byte(fmt.Sprintf(`{"round":%d,"state":"down","pad":%q}`, i+1, pad)),
			}
		}
		b.StartTimer()
		start := time.Now()
		if batch {
			if err := writer.Apply(ctx, evs); err != nil {
				b.Fatal(err)
			}
		} else {
			for _, e := range evs {
				if err := writer.Put(ctx, e.Key, e.Value); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		for r := 0; r != i+1; {
			select {
			case r = <-seen:
			case <-time.After(time.Minute):
				b.Fatal("the reader never saw the last vote")
			}
		}
		seenTotal += time.Since(start)
	}
	b.ReportMetric(float64(seenTotal.Milliseconds())/float64(b.N), "last-seen-ms/op")
}
