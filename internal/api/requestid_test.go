package api

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestRequestID: every response carries X-Request-Id, the client's when
// it is sane, else a new one, and every log line of the request names it
// and the remote address (and, over TLS, the client certificate).
func TestRequestID(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	logs := &testutil.LogBuffer{}
	h := New(PlaneControl(svc), Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"sane", "deploy-42/abc.def_1", true},
		{"none", "", false},
		{"space", "a b", false},
		{"control character", "a\x01b", false},
		{"not ASCII", "zürich", false},
		{"too long", strings.Repeat("x", 129), false},
		{"longest", strings.Repeat("y", 128), true},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/zones", nil)
			r.RemoteAddr = "192.0.2.9:4242"
			if tc.sent != "" {
				r.Header.Set(RequestIDHeader, tc.sent)
			}
			if tc.name == "sane" {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: "deployer"}}}}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Header().Get(RequestIDHeader)
			switch {
			case tc.kept && id != tc.sent:
				t.Fatalf("echoed %q, sent %q", id, tc.sent)
			case !tc.kept && (id == tc.sent || !regexp.MustCompile(`^[A-Z2-7]{26}$`).MatchString(id)):
				t.Fatalf("sent %q, got %q; want a new id", tc.sent, id)
			case seen[id]:
				t.Fatalf("id %q given twice", id)
			}
			seen[id] = true
			line := ""
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "request_id="+id) {
					line = l
				}
			}
			if !strings.Contains(line, "api request") || !strings.Contains(line, "remote=192.0.2.9:4242") {
				t.Fatalf("no api request line with the id and remote address:\n%s", logs)
			}
			if tc.name == "sane" && !strings.Contains(line, `client_cert="CN=deployer"`) {
				t.Errorf("no client certificate in %s", line)
			}
		})
	}
}

// TestContextLogHandler: a line logged by a handler during a request (here
// the detail of an internal error) names the request too, also through a
// logger derived with With.
func TestContextLogHandler(t *testing.T) {
	logs := &testutil.LogBuffer{}
	log := slog.New(ContextLogHandler(slog.NewTextHandler(logs, nil))).With("component", "x")
	if _, ok := ContextLogHandler(log.Handler()).(contextLogHandler); !ok {
		t.Fatal("not kept")
	}
	if got := ContextLogHandler(log.Handler()); got != log.Handler() {
		t.Error("wrapped twice")
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "198.51.100.1:1"
	h := &Handler{}
	r = h.begin(httptest.NewRecorder(), r)
	log.ErrorContext(r.Context(), "something failed")
	log.Info("not in a request")
	out := logs.String()
	if !regexp.MustCompile(`msg="something failed" component=x remote=198.51.100.1:1 request_id=[A-Z2-7]{26}\n`).MatchString(out) {
		t.Errorf("line in a request:\n%s", out)
	}
	if !strings.Contains(out, "msg=\"not in a request\" component=x\n") {
		t.Errorf("line outside requests:\n%s", out)
	}
}
