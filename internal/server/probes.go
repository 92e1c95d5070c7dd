package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/zone"
)

// Liveness and readiness. GET /healthz answers 200 "ok" while the process
// serves HTTP at all; GET /readyz answers 200 when the node can answer
// DNS (every check below but the store's passes), else 503, with a JSON
// body naming each check and its state; GET /readyz?strict=1 requires
// the store as well (the API cannot write without it). Neither needs a
// token, and both are outside /v1.
const (
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// readiness is what the node's parts have reached, set by Start as each
// comes up and cleared at once by Shutdown: a node that drains is not
// ready. Its fields are read by the probes while Start and Shutdown run.
type readiness struct {
	store atomic.Bool // the store is open
	pub   atomic.Pointer[publish.Publisher]
	dns   atomic.Bool // the DNS listeners are bound and served
	api   atomic.Bool // the API listener is bound and served
}

// down marks everything as stopped.
func (r *readiness) down() {
	r.api.Store(false)
	r.dns.Store(false)
	r.store.Store(false)
}

// readyCheck is one readiness check in GET /readyz's body.
type readyCheck struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says why a check fails.
	Detail string `json:"detail,omitempty"`
}

// readyReport is GET /readyz's body.
type readyReport struct {
	Ready  bool         `json:"ready"`
	Strict bool         `json:"strict"`
	Checks []readyCheck `json:"checks"`
}

// checks evaluates the readiness checks, in a fixed order: store (open
// and answering the publisher's probes), snapshot (the first full load
// of the zones is published), dns (the listeners are up), api (the API
// listener is up). The node is ready when snapshot, dns and api pass:
// DNS answers from the last snapshot while the store is away, and with
// a store shared by every node, an outage of it must not take every
// node out of service at once. strict requires the store too.
//
// The store's detail (storeCheck) says since when it is unreachable, never the
// store's error (the probe needs no token, and a networked store's
// errors name internal addresses): the error is in the log and in the
// authenticated GET /v1/status.
func (r *readiness) checks(strict bool) readyReport {
	pub := r.pub.Load()
	store := r.storeCheck()
	snap := readyCheck{Name: "snapshot", Detail: "the zones are still loading"}
	if pub != nil {
		select {
		case <-pub.Ready():
			snap = readyCheck{Name: "snapshot", OK: true}
		default:
		}
	}
	dns := readyCheck{Name: "dns", OK: true}
	if !r.dns.Load() {
		dns.OK, dns.Detail = false, "the DNS listeners are not serving"
	}
	api := readyCheck{Name: "api", OK: true}
	if !r.api.Load() {
		api.OK, api.Detail = false, "the API listener is not serving"
	}
	out := readyReport{Ready: snap.OK && dns.OK && api.OK, Strict: strict, Checks: []readyCheck{store, snap, dns, api}}
	if strict {
		out.Ready = out.Ready && store.OK
	}
	return out
}

// storeCheck reports whether the store is open and answers the
// publisher's probes.
func (r *readiness) storeCheck() readyCheck {
	pub := r.pub.Load()
	switch {
	case !r.store.Load():
		return readyCheck{Name: "store", Detail: "the store is not open"}
	case pub == nil:
		return readyCheck{Name: "store", Detail: "the store is opening"}
	}
	st := pub.State()
	if !st.Unreachable {
		return readyCheck{Name: "store", OK: true}
	}
	c := readyCheck{Name: "store", Detail: "the store is unreachable"}
	if !st.Since.IsZero() {
		c.Detail += " since " + st.Since.UTC().Format(time.RFC3339)
	}
	return c
}

// probes returns the handler of GET /healthz and GET /readyz (HEAD too),
// for any listener that mounts them.
func (r *readiness) probes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(healthzPath, func(w http.ResponseWriter, req *http.Request) {
		if !probeMethod(w, req) {
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc(readyzPath, func(w http.ResponseWriter, req *http.Request) {
		if !probeMethod(w, req) {
			return
		}
		strict := false
		if v := req.URL.Query().Get("strict"); v != "" {
			var err error
			if strict, err = strconv.ParseBool(v); err != nil {
				http.Error(w, "strict="+strconv.Quote(v)+" is not a boolean (use strict=1 or strict=0)", http.StatusBadRequest)
				return
			}
		}
		rep := r.checks(strict)
		b, _ := json.MarshalIndent(rep, "", "  ")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Ready {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write(append(b, '\n'))
	})
	return mux
}

// probeMethod allows GET and HEAD, and answers 405 to anything else.
func probeMethod(w http.ResponseWriter, req *http.Request) bool {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, req.Method+" is not allowed on "+req.URL.Path+" (allowed: GET, HEAD)", http.StatusMethodNotAllowed)
	return false
}

// probes returns the node's /healthz and /readyz handler.
func (s *Node) probes() http.Handler { return s.ready.probes() }

// withProbes serves the probes beside h (the API) on one listener.
func (s *Node) withProbes(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	p := s.probes()
	mux.Handle(healthzPath, p)
	mux.Handle(readyzPath, p)
	mux.Handle("/", h)
	return mux
}

// registerRecovery registers stratus_panics_recovered_total,
// stratus_ready and stratus_store_reachable on the node's registry.
func (s *Node) registerRecovery() {
	// Every component's series exists from the start, at 0, so that
	// increase() over it sees the first panic.
	for _, c := range panicComponents {
		telemetry.Panics.WithLabelValues(c)
	}
	s.metrics.MustRegister(telemetry.Panics, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace,
		Name:      "ready",
		Help:      "1 while the node is ready to serve DNS (GET /readyz answers 200; the store is not required), else 0.",
	}, func() float64 {
		if s.ready.checks(false).Ready {
			return 1
		}
		return 0
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace,
		Subsystem: "store",
		Name:      "reachable",
		Help:      "1 while the store is open and answers the publisher's probes (the store check of GET /readyz?strict=1), else 0. DNS answers from the last snapshot without it; API writes fail.",
	}, func() float64 {
		if s.ready.storeCheck().OK {
			return 1
		}
		return 0
	}))
}

// dnsSnapshots is what the DNS server loads the zones from: the
// publisher's pointer (a test wraps it to inject a panic).
var dnsSnapshots = func(p *atomic.Pointer[zone.Snapshot]) dnsserver.SnapshotSource { return p }

// dnsPanicked counts a panic the DNS server recovered from (it has
// logged it).
func dnsPanicked(component string, _ any, _ []byte) { telemetry.CountPanic(component) }

// panicComponents are the components stratus_panics_recovered_total
// counts by.
var panicComponents = []string{"dns_udp", "dns_tcp", "dns_handover", "api", "publisher", "health", "steering", "cluster_task", "secondary", "drill", "notify", "webhook"}
