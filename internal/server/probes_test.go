package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
)

// awayStore fails the publisher's probes while down.
type awayStore struct {
	store.Store
	down atomic.Bool
}

var errAway = errors.New("the store did not answer")

func (s *awayStore) Revision(ctx context.Context) (store.Revision, error) {
	if s.down.Load() {
		return 0, errAway
	}
	return s.Store.Revision(ctx)
}

// probe asks h for path and returns the status and body.
func probe(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w.Code, w.Body.String()
}

// readyz asks h for GET path (/readyz and a query) and decodes its
// report.
func readyz(t *testing.T, h http.Handler, path string) (int, map[string]readyCheck) {
	t.Helper()
	code, body := probe(t, h, http.MethodGet, path)
	var rep readyReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("GET /readyz: %v in %q", err, body)
	}
	checks := map[string]readyCheck{}
	var names []string
	for _, c := range rep.Checks {
		checks[c.Name] = c
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "store,snapshot,dns,api" {
		t.Errorf("checks %v, want store, snapshot, dns, api", names)
	}
	if rep.Ready != (code == http.StatusOK) {
		t.Errorf("status %d with ready %v", code, rep.Ready)
	}
	return code, checks
}

// readyGauge reads stratus_ready from reg.
func readyGauge(t *testing.T, reg prometheus.Gatherer) float64 {
	t.Helper()
	return gathered(t, reg, "stratus_ready", "")
}

// gathered returns the value of the metric name (with label component
// when not "") in reg, or -1 when it is not there.
func gathered(t *testing.T, reg prometheus.Gatherer, name, component string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if component != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != component) {
				continue
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

// TestReadiness: /readyz answers 503 naming what is not ready, in each
// state a node passes through — nothing open, the zones loading, DNS not
// up, the store unreachable, shutting down — and 200 when DNS can be
// served: an unreachable store fails its check, saying since when but
// not its error, and makes only /readyz?strict=1 answer 503.
// stratus_ready follows /readyz. /healthz answers 200 throughout.
func TestReadiness(t *testing.T) {
	n := &Node{metrics: prometheus.NewRegistry()}
	n.registerRecovery()
	h := n.probes()
	// want checks /readyz (ready) and /readyz?strict=1 (ready, and the
	// store not failing).
	want := func(ready bool, failing ...string) {
		t.Helper()
		storeOK := !slices.Contains(failing, "store")
		for _, q := range []struct {
			path  string
			ready bool
		}{{"/readyz", ready}, {"/readyz?strict=0", ready}, {"/readyz?strict=1", ready && storeOK}, {"/readyz?strict=true", ready && storeOK}} {
			code, checks := readyz(t, h, q.path)
			wantCode := http.StatusServiceUnavailable
			if q.ready {
				wantCode = http.StatusOK
			}
			if code != wantCode {
				t.Errorf("GET %s: %d, want %d (%+v)", q.path, code, wantCode, checks)
			}
			for name, c := range checks {
				fail := slices.Contains(failing, name)
				if c.OK == fail || (fail && c.Detail == "") {
					t.Errorf("GET %s: check %s: %+v, want failing %v", q.path, name, c, fail)
				}
			}
		}
		g := readyGauge(t, n.metrics)
		if (g == 1) != ready || (g != 0 && g != 1) {
			t.Errorf("stratus_ready %v, ready %v", g, ready)
		}
		if g := gathered(t, n.metrics, "stratus_store_reachable", ""); (g == 1) != storeOK || (g != 0 && g != 1) {
			t.Errorf("stratus_store_reachable %v, store reachable %v", g, storeOK)
		}
		if code, body := probe(t, h, http.MethodGet, "/healthz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("GET /healthz: %d %q", code, body)
		}
	}
	want(false, "store", "snapshot", "dns", "api")
	if code, body := probe(t, h, http.MethodGet, "/readyz?strict=maybe"); code != http.StatusBadRequest || !strings.Contains(body, "strict") {
		t.Errorf("GET /readyz?strict=maybe: %d %q, want 400 naming strict", code, body)
	}

	bst, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bst.Close()
	st := &awayStore{Store: bst}
	n.ready.store.Store(true)
	pub := publish.New(st, nil)
	n.ready.pub.Store(pub)
	want(false, "snapshot", "dns", "api") // the zones are loading

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-pub.Ready()
	want(false, "dns", "api") // before DNS is up
	n.ready.dns.Store(true)
	want(false, "api")
	n.ready.api.Store(true)
	want(true)

	st.down.Store(true)
	pub.Probe(ctx)
	want(true, "store") // DNS answers from the snapshot
	since := pub.State().Since.UTC().Format(time.RFC3339)
	if _, checks := readyz(t, h, "/readyz"); checks["store"].Detail != "the store is unreachable since "+since {
		t.Errorf("store check %+v, want the store unreachable since %s (and not the store's error)", checks["store"], since)
	}
	st.down.Store(false)
	pub.Probe(ctx)
	want(true)

	n.ready.down() // Shutdown
	want(false, "store", "dns", "api")

	// The API listener serves each probe route openapi.json documents.
	onAPI := n.withProbes(http.NotFoundHandler())
	for _, rt := range api.ProbeRoutes {
		method, path, _ := strings.Cut(rt, " ")
		if code, _ := probe(t, onAPI, method, path); code == http.StatusNotFound {
			t.Errorf("%s is not served beside the API", rt)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := probe(t, h, http.MethodPost, path); code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d", path, code)
		}
		if code, _ := probe(t, h, http.MethodHead, path); code == http.StatusMethodNotAllowed {
			t.Errorf("HEAD %s: %d", path, code)
		}
	}
}

// panicOnce is a snapshot source whose next Load panics once armed.
type panicOnce struct {
	*atomic.Pointer[zone.Snapshot]
	armed atomic.Bool
}

func (p *panicOnce) Load() *zone.Snapshot {
	if p.armed.CompareAndSwap(true, false) {
		panic("injected into the query path")
	}
	return p.Pointer.Load()
}

// TestNodeRecoversQueryPanic: in a running node, a query that panics is
// logged with its stack and counted in
// stratus_panics_recovered_total{component="dns_udp"} on the node's
// registry, and the same UDP reader answers the next query. The API
// listener serves /healthz and /readyz without a token.
func TestNodeRecoversQueryPanic(t *testing.T) {
	var src *panicOnce
	dnsSnapshots = func(p *atomic.Pointer[zone.Snapshot]) dnsserver.SnapshotSource {
		src = &panicOnce{Pointer: p}
		return src
	}
	defer func() { dnsSnapshots = func(p *atomic.Pointer[zone.Snapshot]) dnsserver.SnapshotSource { return p } }()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.DNS.UDPReaders = 1
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Zones.Demo = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs testutil.LogBuffer
	n := New(cfg, Options{}, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(ctx)
	base := "http://" + n.APIAddr().String()
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": `"ready": true`} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, b)
		}
	}
	if g := readyGauge(t, n.metrics); g != 1 {
		t.Errorf("stratus_ready %v on a node that serves", g)
	}

	before := max(gathered(t, n.metrics, "stratus_panics_recovered_total", "dns_udp"), 0)
	addr := n.DNSAddrs()[0].String()
	m := new(dns.Msg)
	m.SetQuestion("demo.stratus.test.", dns.TypeSOA)
	src.armed.Store(true)
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	if r, _, err := c.Exchange(m, addr); err == nil {
		t.Fatalf("the query that panicked was answered: %v", r)
	}
	deadline := time.Now().Add(time.Minute)
	for gathered(t, n.metrics, "stratus_panics_recovered_total", "dns_udp") != before+1 {
		if time.Now().After(deadline) {
			t.Fatalf("stratus_panics_recovered_total{component=\"dns_udp\"} is %v, want %v", gathered(t, n.metrics, "stratus_panics_recovered_total", "dns_udp"), before+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Timeout = time.Minute
	r, _, err := c.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("after the panic: %v %v", r, err)
	}
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=dns_udp", `panic="injected into the query path"`, "runtime/debug.Stack"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if g := readyGauge(t, n.metrics); g != 0 {
		t.Errorf("stratus_ready %v after Shutdown", g)
	}
}
