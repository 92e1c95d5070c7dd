package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/cluster"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/healthview"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/secondary"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/steerctl"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/version"
	"github.com/stratusdns/stratus/internal/webhook"
	"github.com/stratusdns/stratus/internal/xfr"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// StoreFile is the name of the bbolt database in the data directory.
const StoreFile = "stratus.db"

// Options are start-up choices that are not configuration.
type Options struct {
	// RotateAdminToken replaces the admin token and rewrites its file.
	RotateAdminToken bool
}

// Node is a running Stratus node: its store, control plane, steering,
// health checks and listeners.
type Node struct {
	cfg  config.Config
	opts Options
	log  *slog.Logger

	st       store.Store
	pub      *publish.Publisher
	plane    *control.Plane
	checker  *health.Checker
	steering *steerctl.Controller
	dns      *dnsserver.Server
	http     *http.Server
	httpDone chan struct{} // closed when the API's Serve has returned
	apiAddr  net.Addr
	closeGeo func()

	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup

	secondaries *secondary.Manager
	drills      *drill.Scheduler
	cluster     *cluster.Node
	addrs       addrs
	started     time.Time

	pubCancel context.CancelFunc
	pubDone   chan struct{}

	// metrics is the node's Prometheus registry; every part of the node
	// registers its metrics there.
	metrics *prometheus.Registry
	// alerts takes the alerts the node's parts emit.
	alerts alert.Sink
	// metricsHTTP serves metrics.listen (nil: none); metricsDone is
	// closed when its Serve has returned.
	metricsHTTP *http.Server
	metricsDone chan struct{}
	metricsAddr net.Addr
	// taps are the query log and dnstap (tap.go).
	taps *taps
	// ready is what GET /readyz reports (probes.go).
	ready readiness
	// webhooks delivers them (webhooks.go).
	webhooks *webhook.Dispatcher
	// stopTracing flushes and ends the export of spans (tracing.go).
	stopTracing func(context.Context) error
}

// New returns a node for cfg (validated). It starts nothing.
func New(cfg config.Config, opts Options, log *slog.Logger) *Node {
	return &Node{cfg: cfg, opts: opts, log: log}
}

// Start opens the store, publishes the zones and starts the DNS and API
// listeners. On error, whatever was started is stopped again.
func (s *Node) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			s.Shutdown(context.Background())
		}
	}()
	s.log.Info("starting stratus", "version", version.Get().Version, "data_dir", s.cfg.DataDir, "store", storeName(s.cfg))
	s.metrics = telemetry.NewRegistry()
	s.registerRecovery()
	s.alerts = s.newAlerts()
	if err := s.startTracing(); err != nil {
		return err
	}
	drills, err := drill.LoadScheduled(s.cfg.Drills)
	if err != nil {
		return err
	}
	if err := checkAPIListen(s.cfg.API); err != nil {
		return err
	}
	if err := mkdirData(s.cfg.DataDir, s.log); err != nil {
		return err
	}
	st, err := openStore(ctx, s.cfg, s.log)
	if err != nil {
		return err
	}
	st = store.Instrument(st, s.metrics)
	s.st = st
	s.ready.store.Store(true)
	loc, closeGeo, err := locator(s.cfg.Steering)
	if err != nil {
		return err
	}
	s.closeGeo = closeGeo
	node, err := s.cfg.Cluster.NodeName()
	if err != nil {
		return err
	}
	var ctrl *steerctl.Controller
	var view *healthview.View
	s.checker = health.New(health.Options{
		Clock:       clock.Real(),
		MaxInFlight: s.cfg.Steering.MaxChecksInFlight,
		EventLimit:  s.cfg.Steering.Events,
		Logger:      s.log.With("component", "health"),
		OnChange:    func(ctx context.Context, keys []string) { view.LocalChanged(ctx, keys) },
		Metrics:     s.metrics,
	})
	view = healthview.New(s.checker, healthview.Options{Node: node, Clock: clock.Real(), SessionTTL: s.cfg.Cluster.TTL(),
		OnChange: func(ctx context.Context, keys []string) { ctrl.HealthChanged(ctx, keys) }, Logger: s.log.With("component", "health")})
	events, kept, err := control.OpenNodeEventLog(ctx, st, eventsNode(s.cfg, node), control.EventLimits{Count: s.cfg.Steering.Events}, s.log.With("component", "health"))
	if err != nil {
		return fmt.Errorf("health events: %w", err)
	}
	s.checker.RestoreEvents(steerctl.HealthEvents(kept))
	ctrl = steerctl.New(s.checker, steerctl.Options{
		Locator:        loc,
		Latency:        steer.LatencyTable(s.cfg.Steering.Latency),
		Resolver:       resolver(s.cfg.Steering.FlattenResolver),
		FlattenRefresh: s.cfg.Steering.FlattenRefresh,
		Events:         events,
		Health:         view,
		Alerts:         s.alerts,
		Metrics:        s.metrics,
		Logger:         s.log.With("component", "steering"),
	})
	s.steering = ctrl
	s.pub = publish.New(st, s.log.With("component", "publisher"))
	s.pub.SetMetrics(s.metrics)
	s.ready.pub.Store(s.pub)
	s.pub.SetServiceSink(ctrl)
	s.pub.OnReach(storeEvents(node, s.checker))
	pubCtx, cancel := context.WithCancel(context.Background())
	s.pubCancel, s.pubDone = cancel, make(chan struct{})
	go func() {
		defer close(s.pubDone)
		if err := s.pub.Run(pubCtx); err != nil {
			s.log.Error("snapshot publisher stopped", "err", err)
		}
	}()
	select {
	case <-s.pub.Ready():
	case err := <-s.pub.Failed():
		return fmt.Errorf("loading the zones: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	auditKey, err := s.auditKey()
	if err != nil {
		return err
	}
	s.plane = control.New(st, s.pub, control.Options{
		JournalMaxEntries:        s.cfg.Journal.MaxEntries,
		JournalMaxSteeredEntries: s.cfg.Journal.MaxSteeredEntries,
		JournalMaxEntryRecords:   s.cfg.Journal.MaxEntryRecords,
		Logger:                   s.log.With("component", "control"),
		AuditKey:                 auditKey,
		AuditRetention:           s.cfg.Audit.Retention,
	})
	s.plane.Endpoints.RegisterMetrics(s.metrics)
	if err := s.plane.Audit.CheckKey(ctx); err != nil {
		return err
	}
	bg, bgCancel := context.WithCancel(context.Background())
	s.bgCancel = bgCancel
	secondaries := secondary.New(s.plane.Secondaries, s.plane.TSIGKeys, secondary.Options{Clock: clock.Real(), MaxRecords: s.cfg.Zones.MaxRecords, Metrics: s.metrics, Alerts: s.alerts}, s.log.With("component", "secondary"))
	s.secondaries = secondaries
	s.drills = drill.NewScheduler(drillPlane{services: s.plane.Services, endpoints: s.plane.Endpoints, steering: ctrl}, drillKeeper{s.plane.DrillRuns}, drills, s.log.With("component", "drill"))
	s.drills.SetAlerts(s.alerts)
	delay := cmp.Or(s.cfg.Zones.NotifyDelay, 100*time.Millisecond)
	xfrMetrics := xfr.NewMetrics(s.metrics) // every term's notifier and the transfer server
	s.started = time.Now().UTC()
	s.cluster = cluster.New(cluster.Options{
		Name:       node,
		SessionTTL: s.cfg.Cluster.TTL(),
		Open:       sessionOpener(st),
		Clock:      clock.Real(),
		Logger:     s.log.With("component", "cluster"),
	})
	s.cluster.OnSession("member record", s.cluster.Announce(s.member))
	if _, shared := st.(store.Shared); shared {
		// Alone on bbolt the view is the node's own checks: no votes.
		s.cluster.OnSession("health votes", view.Run)
	}
	// The work that must run once in the cluster runs on the leader, with
	// the term's fenced context: a deposed leader's writes are refused by
	// the store. Each task is safe to start again in a later term.
	s.cluster.WhileLeading("lease reaping", func(ctx context.Context) { s.reapLeases(ctx, ctrl) })
	s.cluster.WhileLeading("notify", func(ctx context.Context) {
		// A fresh notifier per term: it sends every zone's serial at its
		// start, so secondaries hear of what changed between terms.
		xfr.NewNotifier(s.pub, s.plane.Zones, s.plane.TSIGKeys, xfr.NotifierOptions{Delay: s.cfg.Zones.NotifyDelay, Clock: clock.Real(), Metrics: xfrMetrics}, s.log.With("component", "notify")).Run(ctx)
	})
	s.cluster.WhileLeading("materialize", func(ctx context.Context) { ctrl.Materialize(ctx, s.plane.SteeredAnswers, delay) })
	s.cluster.WhileLeading("secondary zones", func(ctx context.Context) {
		both(ctx, func(ctx context.Context) { secondaries.Follow(ctx, s.pub) }, secondaries.Run)
	})
	s.cluster.WhileLeading("scheduled drills", s.drills.Run)
	s.cluster.WhileLeading("audit pruning", s.pruneAudit)
	s.startWebhooks(bg)
	if _, shared := st.(store.Shared); shared {
		// A NOTIFY for a secondary zone may reach any node; one that does
		// not lead hands it to the leader through an ephemeral key, which
		// the leader follows (its first batch holds the keys put before
		// its term).
		s.cluster.OnSession("notify hand-over", func(ctx context.Context, sess store.Session) error {
			return secondaries.Handoff(ctx, sess, s.pub)
		})
		s.cluster.WhileLeading("notify hand-overs", func(ctx context.Context) {
			if sess := s.cluster.Session(); sess != nil {
				if err := secondaries.FollowHandoffs(ctx, sess); err != nil {
					s.log.Warn("following the NOTIFY hand-overs", "err", err)
				}
			}
		})
	}
	s.bgDone.Add(1)
	go func() { defer s.bgDone.Done(); s.pub.Monitor(bg, time.Second) }()
	s.bgDone.Add(1) // the tokens' last use, written once a minute and at shutdown
	go func() {
		defer s.bgDone.Done()
		s.plane.Tokens.RunLastUse(bg, clock.Real(), control.DefaultLastUseFlush)
	}()
	if err := s.ensureAdminToken(ctx, s.opts.RotateAdminToken); err != nil {
		return err
	}
	if s.cfg.Zones.Demo {
		if err := s.ensureDemoZone(ctx); err != nil {
			return fmt.Errorf("demo zone: %w", err)
		}
	}

	taps, tapCfg, err := openTaps(&s.cfg, s.log)
	if err != nil {
		return err
	}
	s.taps = taps
	dns, err := dnsserver.New(dnsserver.Config{
		Listen:         s.cfg.DNS.Listen,
		UDPSize:        s.cfg.DNS.UDPPayloadSize,
		UDPReaders:     s.cfg.DNS.UDPReaders,
		TCPIdleTimeout: s.cfg.DNS.TCPIdleTimeout,
		TCPMaxConns:    s.cfg.DNS.TCPMaxConnections,
		Anomalies:      anomalyConfig(s.cfg.DNS.Anomalies),

		TCPMaxConnsPerClient: s.cfg.DNS.TCPMaxConnectionsPerClient,
		TCPMessageTimeout:    s.cfg.DNS.TCPMessageTimeout,
		TCPBusyIdleTimeout:   s.cfg.DNS.TCPBusyIdleTimeout,
		TCPLimitExempt:       s.cfg.DNS.TCPLimitExemptPrefixes(),
		Cookies:              dnsCookies(&s.cfg.DNS, s.log),
		Identity:             s.cfg.DNS.ServerIdentity(),
		Version:              s.cfg.DNS.ServerVersion(),
		RRL:                  rrlConfig(&s.cfg.DNS.RRL),
		Stats:                s.cfg.Metrics.On(),
		Tap:                  tapCfg,
		OnPanic:              dnsPanicked,
	}, dnsSnapshots(s.pub.Snapshots()), steeringSource{ctrl.Snapshots()}, s.log.With("component", "dns"))
	if err != nil {
		return err
	}
	dns.SetAnomalyLog(anomalyEvents(s.checker))
	if s.metrics != nil {
		s.metrics.MustRegister(&tapCollector{dns: dns, taps: taps})
	}
	full := xfr.New(s.plane.Zones, s.plane.TSIGKeys, s.log.With("component", "xfr"))
	full.SetNotified(s.secondaries)
	full.SetMetrics(xfrMetrics)
	full.SetTSIGLimits(xfr.TSIGLimits{MaxFudge: uint16(s.cfg.TSIG.MaxFudge / time.Second), ReplayEntries: s.cfg.TSIG.ReplayCache})
	full.SetServed(s.pub.Snapshots())
	s.bgDone.Add(1) // counts of the log lines the DNS side left out
	go func() { defer s.bgDone.Done(); full.Run(bg) }()
	var _ xfr.NotifyChecker = s.secondaries // unsigned NOTIFY refused before parsing
	dns.SetExtended(full)
	if err := dns.Start(); err != nil {
		return err
	}
	s.dns = dns
	var metrics http.Handler // nil: metrics are off
	if s.cfg.Metrics.On() {
		s.metrics.MustRegister(newDNSCollector(dns.Stats))
		metrics = metricsHandler(s.metrics, s.log.With("component", "metrics"))
		if s.cfg.Metrics.Listen != "" {
			s.metricsHTTP, s.metricsAddr, s.metricsDone, err = listenMetrics(s.cfg.Metrics, metrics, s.log.With("component", "metrics"))
			if err != nil {
				return err
			}
		}
	}
	s.ready.dns.Store(true)

	ln, err := listenAPI(s.cfg.API, clock.Real(), s.log.With("component", "api"))
	if err != nil {
		return err
	}
	s.apiAddr = ln.Addr()
	s.addrs.set(s.apiAddr.String(), s.dns.Addrs())
	handler := api.New(api.PlaneControl(s.plane), api.Options{
		Steering:           ctrl,
		Health:             healthView{s.checker, view, events},
		Drills:             s.drills,
		Webhooks:           webhookTester{s.webhooks},
		Status:             s.status,
		Cluster:            s.clusterStatus,
		MaxZoneFileBytes:   s.cfg.API.MaxZoneFileBytes,
		MaxZoneRecords:     s.cfg.Zones.MaxRecords,
		MaxZoneGenerated:   s.cfg.Zones.MaxGeneratedRecords,
		DefaultNameservers: s.cfg.NameServers(),
		Logger:             s.log.With("component", "api"),
		RateLimits:         api.RateLimits(s.cfg.API.RateLimit),
		TrustedProxies:     s.cfg.API.TrustedProxyPrefixes(),
		LongTimeout:        cmp.Or(s.cfg.API.ZoneFileTimeout, config.DefaultAPIZoneFileTimeout),

		MetricsHandler:      metrics,
		MetricsPath:         s.cfg.Metrics.PathOrDefault(),
		MetricsRequireToken: s.cfg.Metrics.RequireToken,
		Metrics:             s.metrics,
	})
	srv := apiServer(s.cfg.API, s.withProbes(handler), clock.Real(), s.log)
	s.http, s.httpDone = srv, make(chan struct{})
	go func() {
		defer close(s.httpDone)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "err", err)
		}
	}()
	s.ready.api.Store(true)
	s.log.Info("api listening", "addr", s.apiAddr.String(), "scheme", s.cfg.API.Scheme())
	// The node joins its cluster once it answers: its member record says
	// where from its first write. Alone (bbolt), it leads at once.
	s.bgDone.Add(1)
	go func() { defer s.bgDone.Done(); s.cluster.Run(bg) }()
	s.log.Info("stratus ready", "revision", s.pub.Revision())
	return nil
}

// status is the node's state for GET /v1/status.
func (s *Node) status() apiv1.Status {
	st := s.pub.State()
	out := apiv1.Status{Degraded: st.Unreachable, Store: apiv1.StoreStatus{Reachable: !st.Unreachable, Revision: st.Revision}}
	if !st.Since.IsZero() {
		out.Store.Since = &st.Since
	}
	if st.Err != nil {
		out.Store.Error = st.Err.Error()
	}
	return out
}

// DNSAddrs returns the bound DNS addresses.
func (s *Node) DNSAddrs() []netip.AddrPort { return s.dns.Addrs() }

// APIAddr returns the bound API address.
func (s *Node) APIAddr() net.Addr { return s.apiAddr }

// MetricsAddr returns the bound address of metrics.listen (nil: none).
func (s *Node) MetricsAddr() net.Addr { return s.metricsAddr }

// Shutdown stops the API and the metrics listener (letting requests in
// flight finish), then the DNS listeners, the background work, the
// drills, the publisher, steering, health checks and the store: in the
// reverse order of Start. It is safe to call more than once and after a
// partial Start.
func (s *Node) Shutdown(ctx context.Context) error {
	s.ready.down()
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
		<-s.httpDone // Serve returns at once, also one that had not begun
		s.http = nil
	}
	if s.metricsHTTP != nil {
		errs = append(errs, s.metricsHTTP.Shutdown(ctx))
		<-s.metricsDone
		s.metricsHTTP = nil
	}
	if s.dns != nil {
		errs = append(errs, s.dns.Shutdown(ctx))
		s.dns = nil
	}
	s.taps.close(s.log) // after the DNS server: it writes to them
	s.taps = nil
	if s.bgCancel != nil {
		s.bgCancel()
		s.bgDone.Wait()
		s.bgCancel = nil
	}
	if s.drills != nil {
		// Drills started through the API run for the node's lifetime, on
		// any node: they stop and clear their faults while the store is
		// still open.
		s.drills.Close()
		s.drills = nil
	}
	if s.pubCancel != nil {
		s.pubCancel()
		<-s.pubDone
		s.pubCancel = nil
	}
	if s.steering != nil {
		s.steering.Close() // writes the health events not kept yet
		s.steering = nil
	}
	if s.checker != nil {
		s.checker.Close()
		s.checker = nil
	}
	if s.closeGeo != nil {
		s.closeGeo()
		s.closeGeo = nil
	}
	if s.st != nil {
		errs = append(errs, s.st.Close())
		s.st = nil
	}
	errs = append(errs, s.endTracing(ctx))
	return errors.Join(errs...)
}

// reapLeases removes lapsed endpoints from the store. They leave the
// answers at the moment their leases lapse (the steering controller times
// that); this only cleans up: within a second when the controller has seen
// a lapse, and once a minute regardless.
func (s *Node) reapLeases(ctx context.Context, ctrl *steerctl.Controller) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !ctrl.LapsedPending() && tick%60 != 0 {
				continue
			}
			if _, err := s.plane.Endpoints.ReapLapsed(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("reaping lapsed endpoints failed", "err", err)
			}
		}
	}
}

// healthView is the checker as the API sees it, with how far its events
// are kept in the store.
type healthView struct {
	*health.Checker
	view   *healthview.View
	events *control.EventLog
}

// Push takes a report through the merged view, which shares it with the
// other nodes.
func (h healthView) Push(key string, up bool, reason string) error {
	return h.view.Push(key, up, reason)
}

func (h healthView) EventsStored() uint64 { return h.events.Last() }

// eventsNode is the node whose events this node keeps in the store: its
// name on etcd, where several nodes share the store, and none (the layout
// of a node alone) on bbolt.
func eventsNode(cfg config.Config, node string) string {
	if cfg.Store.Etcd == nil {
		return ""
	}
	return node
}
