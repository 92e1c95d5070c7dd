package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/stratusdns/stratus/internal/cluster"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/local"
	"github.com/stratusdns/stratus/internal/version"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// sessionOpener opens the node's sessions: on the store itself when it is
// shared (etcd), else a local session, alone in its cluster, that leads at
// once (bbolt).
func sessionOpener(st store.Store) cluster.OpenFunc {
	if sh, ok := st.(store.Shared); ok {
		return sh.Session
	}
	return local.New().Session
}

// addrs are the node's bound addresses, as its member record shows them;
// set once the listeners are up.
type addrs struct {
	mu  sync.Mutex
	api string
	dns []string
}

func (a *addrs) set(api string, dns []netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.api = api
	a.dns = make([]string, len(dns))
	for i, d := range dns {
		a.dns[i] = d.String()
	}
}

func (a *addrs) get() (string, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.api, append([]string{}, a.dns...)
}

// member describes this node for its member record.
func (s *Node) member() cluster.Member {
	api, dns := s.addrs.get()
	m := cluster.Member{API: api, DNS: dns, Version: version.Get().Version, Started: s.started, Revision: s.pub.Revision()}
	for _, st := range s.checker.Statuses() {
		switch st.State {
		case health.Up:
			m.Health.Up++
		case health.Down:
			m.Health.Down++
		default:
			m.Health.Unknown++
		}
	}
	return m
}

// clusterStatus answers GET /v1/cluster: the member records of every live
// session, with the leader and each node's lag behind the store's head.
func (s *Node) clusterStatus(ctx context.Context) (apiv1.Cluster, error) {
	sess := s.cluster.Session()
	if sess == nil {
		return apiv1.Cluster{}, fmt.Errorf("node %s has no session on the store now: %w", s.cluster.Name(), store.ErrUnavailable)
	}
	ms, err := cluster.Members(ctx, sess)
	if err != nil {
		return apiv1.Cluster{}, err
	}
	head, err := s.st.Revision(ctx)
	if err != nil {
		return apiv1.Cluster{}, err
	}
	leader, err := sess.Leader(ctx, cluster.Election)
	if err != nil && !errors.Is(err, store.ErrNoLeader) {
		return apiv1.Cluster{}, err
	}
	out := apiv1.Cluster{Node: s.cluster.Name(), Leader: string(leader), Revision: head, Members: make([]apiv1.ClusterMember, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, apiv1.ClusterMember{
			Node: m.Node, API: m.API, DNS: m.DNS, Version: m.Version, Started: m.Started,
			Leader: m.Leader, Revision: m.Revision, Lag: max(head-m.Revision, 0),
			Health: apiv1.HealthCounts{Up: m.Health.Up, Down: m.Health.Down, Unknown: m.Health.Unknown},
			Seen:   m.Seen,
		})
	}
	return out, nil
}

// both runs a and b until both have returned.
func both(ctx context.Context, a, b func(context.Context)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a(ctx) }()
	b(ctx)
	wg.Wait()
}
