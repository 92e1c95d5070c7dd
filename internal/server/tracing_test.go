package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// otlpReceiver is an OTLP/HTTP receiver on loopback: it keeps the names
// and service of the spans it is sent.
type otlpReceiver struct {
	mu       sync.Mutex
	posts    int
	spans    []string
	services []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var m coltrace.ExportTraceServiceRequest
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &m) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts++
	for _, rs := range m.ResourceSpans {
		for _, a := range rs.Resource.Attributes {
			if a.Key == "service.name" {
				r.services = append(r.services, a.Value.GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, s.Name)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// startTracedNode starts a node on loopback with tracing tr and returns
// it with its admin token.
func startTracedNode(t *testing.T, tr config.Tracing) (*Node, string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Tracing = tr
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return n, strings.TrimSpace(string(tok))
}

func createZone(t *testing.T, n *Node, tok string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.APIAddr().String()+"/v1/zones",
		strings.NewReader(`{"name":"traced.test","nameservers":["ns1.example.net."]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create zone: %d", res.StatusCode)
	}
}

// TestNodeExportsTraces: a node with tracing.endpoint sends the spans of
// an API write to that OTLP/HTTP receiver, as its service; Shutdown
// flushes them and turns tracing off.
func TestNodeExportsTraces(t *testing.T) {
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n, tok := startTracedNode(t, config.Tracing{Endpoint: srv.URL, ServiceName: "stratus-node-test"})
	if !telemetry.Tracing() {
		t.Fatal("tracing is off on a node with tracing.endpoint")
	}
	createZone(t, n, tok)
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if telemetry.Tracing() {
		t.Error("tracing still on after Shutdown")
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	found := false
	for _, s := range rcv.spans {
		found = found || s == "POST /v1/zones"
	}
	if !found || len(rcv.services) == 0 || rcv.services[0] != "stratus-node-test" {
		t.Errorf("receiver got spans %v of services %v; want POST /v1/zones of stratus-node-test", rcv.spans, rcv.services)
	}
}

// TestNodeTracingOff: without tracing.endpoint a node records no span
// and never connects to a receiver, even one the OpenTelemetry
// environment variables name.
func TestNodeTracingOff(t *testing.T) {
	rcv := &otlpReceiver{}
	srv := httptest.NewUnstartedServer(rcv)
	connected := 0
	var mu sync.Mutex
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			connected++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
	n, tok := startTracedNode(t, config.Tracing{})
	if telemetry.Tracing() {
		t.Error("tracing on without tracing.endpoint")
	}
	createZone(t, n, tok)
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if connected != 0 {
		t.Errorf("%d connections to the receiver with tracing off", connected)
	}
}
