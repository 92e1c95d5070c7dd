package control

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// maxRenewalsPerTxn bounds the renewals one transaction commits: on etcd
// a transaction compares each key it read only up to 64 keys (beyond, it
// compares the whole store's revision, and any concurrent commit would
// make it run again), and writes at most 126 keys under etcd's default
// limits.
const maxRenewalsPerTxn = 64

// maxRenewalGroups is how many groups of renewals commit at once: with
// one, renewals arriving faster than 64 per commit queue behind it; with
// two, bbolt syncs their commits together (group commit) and on etcd
// their round trips overlap. bench/cluster.sh --only renew (10,000
// endpoints, 2,000 renewals a second) measured two ahead of one and of
// four, on bbolt and on three nodes on etcd (bench/README.md).
const maxRenewalGroups = 2

// renewal is one lease renewal waiting for, or done by, a group commit.
type renewal struct {
	svc  model.Name
	id   string
	out  *model.Endpoint
	err  error          // this renewal's own failure, or the transaction's
	rev  store.Revision // the revision that holds it, when err is nil
	done chan struct{}
}

// renewGroup commits concurrent lease renewals together: each renewal
// is queued, and one goroutine at a time commits what is queued in one
// store transaction (up to maxRenewalsPerTxn; up to maxRenewalGroups
// goroutines, each committing one group at a time), so renewals arriving
// while a commit is syncing share the next commit instead of each
// waiting for a sync of its own. The transaction reads the group's
// endpoints with one store.GetMany: on etcd one round trip for the
// group, then one Txn. A renewal is answered only once the
// transaction that holds it is durable. One renewal's failure (an
// endpoint unknown, without a lease, lapsed) fails only that renewal;
// a failure of the transaction itself fails every renewal in it, and
// none of them is written.
type renewGroup struct {
	mu      sync.Mutex
	queue   []*renewal
	running int // goroutines committing the queue
	// metrics count registrations and renewals (Endpoints.RegisterMetrics;
	// nil: not counted).
	metrics *leaseMetrics
}

// leaseMetrics count what the endpoints' leases go through.
type leaseMetrics struct {
	registrations prometheus.Counter
	renewals      prometheus.Counter
	batch         prometheus.Histogram
}

// RegisterMetrics counts registrations, renewals and the size of each
// renewal group commit, and registers the metrics on reg. Call it before
// the first registration.
func (s *Endpoints) RegisterMetrics(reg prometheus.Registerer) {
	if r, ok := reg.(*prometheus.Registry); ok && r == nil || reg == nil {
		return
	}
	m := &leaseMetrics{
		registrations: prometheus.NewCounter(prometheus.CounterOpts{Namespace: telemetry.Namespace, Subsystem: "health", Name: "registrations_total",
			Help: "Endpoint registrations committed (new endpoints and registrations again)."}),
		renewals: prometheus.NewCounter(prometheus.CounterOpts{Namespace: telemetry.Namespace, Subsystem: "health", Name: "renewals_total",
			Help: "Endpoint lease renewals committed."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: telemetry.Namespace, Subsystem: "control", Name: "renewal_batch_size",
			Help:    "Renewals committed together in one store transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}),
	}
	reg.MustRegister(m.registrations, m.renewals, m.batch)
	s.renewals.metrics = m
}

// registered counts a registration.
func (m *leaseMetrics) registered() {
	if m != nil {
		m.registrations.Inc()
	}
}

// committed counts a group commit of batch and the renewals it made.
func (m *leaseMetrics) committed(batch []*renewal) {
	if m == nil {
		return
	}
	m.batch.Observe(float64(len(batch)))
	for _, r := range batch {
		if r.err == nil {
			m.renewals.Inc()
		}
	}
}

// add queues r and starts a goroutine committing the queue, unless
// maxRenewalGroups are at it.
func (g *renewGroup) add(s *Endpoints, r *renewal) {
	g.mu.Lock()
	g.queue = append(g.queue, r)
	start := g.running < maxRenewalGroups
	if start {
		g.running++
	}
	g.mu.Unlock()
	if start {
		go g.run(s)
	}
}

// run commits the queue, a batch at a time, until it is empty.
func (g *renewGroup) run(s *Endpoints) {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		n := min(len(g.queue), maxRenewalsPerTxn)
		batch := make([]*renewal, n)
		copy(batch, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		s.commitRenewals(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitRenewals renews every lease of batch in one transaction. The
// transaction is not bound to any caller's context: a caller that gives
// up does not cancel the others' renewals (its own may still apply, as
// any write whose client went away after sending it).
func (s *Endpoints) commitRenewals(batch []*renewal) {
	rev, err := s.st.Update(context.Background(), func(tx store.Tx) error {
		now := s.opts.Clock().UTC()
		keys := make([]string, len(batch))
		for i, r := range batch {
			keys[i] = schema.EndpointKey(r.svc, r.id)
		}
		// One read for the whole group: on etcd one round trip, where
		// a Get each would be one each, in sequence.
		values, found, err := store.GetMany(tx, keys)
		if err != nil {
			return err
		}
		for i, r := range batch {
			// The transaction may run again (optimistic engines):
			// every attempt starts each renewal afresh.
			r.out, r.err = nil, nil
			key, b := keys[i], values[i]
			if !found[i] {
				r.err = fmt.Errorf("%w: %s in service %s", ErrEndpointNotFound, r.id, r.svc)
				continue
			}
			e, err := schema.DecodeEndpoint(key, b)
			if err != nil {
				r.err = err
				continue
			}
			if r.err = renewed(e, now); r.err != nil {
				continue
			}
			v, err := schema.EncodeEndpoint(e)
			if err != nil {
				r.err = err
				continue
			}
			if err := tx.Put(key, v); err != nil {
				return err
			}
			r.out = e
		}
		return nil
	})
	for _, r := range batch {
		switch {
		case err != nil:
			r.out, r.err = nil, err
		case r.err == nil:
			r.rev = rev
		}
	}
	s.renewals.metrics.committed(batch)
}

// renewed extends e's lease by its TTL from now, or says why it cannot.
func renewed(e *model.Endpoint, now time.Time) error {
	if !e.Leased() {
		return model.Errorf("id", "endpoint %s has no lease to renew", e.ID)
	}
	if e.Lapsed(now) {
		return fmt.Errorf("%w: %s in service %s (its lease lapsed at %s; register it again)", ErrEndpointNotFound, e.ID, e.Service, e.Expires.Format(time.RFC3339Nano))
	}
	e.Renewed, e.Expires = now, now.Add(e.LeaseTTL.D())
	return nil
}

// RenewEndpoint extends an endpoint's lease by its TTL from now. Renewals
// that arrive together are committed together (renewGroup); each is
// answered once its transaction is durable and served.
func (s *Endpoints) RenewEndpoint(ctx context.Context, svcName model.Name, id string) (*model.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &renewal{svc: svcName, id: id, done: make(chan struct{})}
	s.renewals.add(s, r)
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.out, s.published(ctx, r.rev)
}
