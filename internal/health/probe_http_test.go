package health

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/model"
)

func TestHTTPStatusAndBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 301 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
		fmt.Fprint(w, r.URL.Query().Get("body"))
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		query   string
		expect  []string
		body    string
		ok      bool
		wantErr string
	}{
		{"200 in default set", "code=200", nil, "", true, ""},
		{"redirect in default set, not followed", "code=301", nil, "", true, ""},
		{"503 not in default set", "code=503", nil, "", false, "status 503, want 2xx or 3xx"},
		{"404 not wanted", "code=404", []string{"200"}, "", false, "status 404, want 200"},
		{"503 wanted exactly", "code=503", []string{"503"}, "", true, ""},
		{"5xx class", "code=502", []string{"204", "5xx"}, "", true, ""},
		{"body contains", "code=200&body=all+healthy+here", nil, "healthy", true, ""},
		{"body lacks", "code=200&body=degraded", nil, "healthy", false, `body does not contain "healthy"`},
		{"status checked before body", "code=500&body=healthy", nil, "healthy", false, "status 500, want 2xx or 3xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Path = "/health?" + tt.query
				s.ExpectStatus = tt.expect
				s.BodyContains = tt.body
			})
			r := probeOnce(t, envFor(targetAt(t, "k", srv.Listener.Addr().String(), s)))
			if r.ok != tt.ok || r.err != tt.wantErr {
				t.Fatalf("result %+v, want ok=%v err=%q", r, tt.ok, tt.wantErr)
			}
			if r.hard {
				t.Errorf("a wrong answer is a soft failure")
			}
			if r.ok && r.rtt <= 0 {
				t.Errorf("no RTT on success")
			}
		})
	}
}

func TestHTTPBodyReadBounded(t *testing.T) {
	big := strings.Repeat("x", 2*maxBody) + "needle"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) }))
	defer srv.Close()
	s := spec(model.CheckHTTP, func(s *model.CheckSpec) { s.BodyContains = "needle" })
	r := probeOnce(t, envFor(targetAt(t, "k", srv.Listener.Addr().String(), s)))
	if r.ok {
		t.Fatalf("found a needle past %d bytes: the body read is not bounded", maxBody)
	}
}

func TestHTTPHeadersAndUserAgent(t *testing.T) {
	type seen struct{ method, ua, probe, host string }
	var (
		mu  sync.Mutex
		got seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = seen{r.Method, r.UserAgent(), r.Header.Get("X-Probe"), r.Host}
		mu.Unlock()
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	tests := []struct {
		name string
		mod  func(*model.CheckSpec)
		ua   string // Options.UserAgent
		want seen
	}{
		{"defaults", nil, "", seen{"GET", DefaultUserAgent, "", addr}},
		{"checker user agent", nil, "fleet/3", seen{"GET", "fleet/3", "", addr}},
		{"check user agent and headers", func(s *model.CheckSpec) {
			s.Method = "HEAD"
			s.UserAgent = "custom/2"
			s.Headers = map[string]string{"X-Probe": "yes"}
		}, "fleet/3", seen{"HEAD", "custom/2", "yes", addr}},
		{"host header from headers", func(s *model.CheckSpec) {
			s.Headers = map[string]string{"host": "vhost.example"}
		}, "", seen{"GET", DefaultUserAgent, "", "vhost.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := envFor(targetAt(t, "k", addr, spec(model.CheckHTTP, tt.mod)))
			if tt.ua != "" {
				e.ua = tt.ua
			}
			if r := probeOnce(t, e); !r.ok {
				t.Fatalf("probe failed: %s", r.err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got != tt.want {
				t.Errorf("server saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

// tlsServer starts an HTTPS server on 127.0.0.1 that records the SNI and
// Host of each request.
func tlsServer(t *testing.T) (srv *httptest.Server, seen func() (sni, host string)) {
	t.Helper()
	var (
		mu        sync.Mutex
		sni, host string
	)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sni, host = r.TLS.ServerName, r.Host
		mu.Unlock()
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return sni, host
	}
}

func TestHTTPSServerNameAndHost(t *testing.T) {
	srv, seen := tlsServer(t)
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	noVerify := false
	tests := []struct {
		name       string
		serverName string
		checkHost  string
		wantSNI    string
		wantHost   string
	}{
		{"endpoint hostname", "svc.example.", "", "svc.example", "svc.example:" + port},
		{"check host overrides", "svc.example.", "other.example.", "other.example", "other.example:" + port},
		{"address only: no SNI", "", "", "", addr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := targetAt(t, "k", addr, spec(model.CheckHTTPS, func(s *model.CheckSpec) {
				s.TLSVerify = &noVerify
				s.Host = tt.checkHost
			}))
			tg.ServerName = tt.serverName
			if r := probeOnce(t, envFor(tg)); !r.ok {
				t.Fatalf("probe failed: %s", r.err)
			}
			if sni, host := seen(); sni != tt.wantSNI || host != tt.wantHost {
				t.Errorf("server saw SNI %q Host %q, want %q and %q", sni, host, tt.wantSNI, tt.wantHost)
			}
		})
	}
}

func TestHTTPSVerification(t *testing.T) {
	srv, _ := tlsServer(t)
	addr := srv.Listener.Addr().String()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	no, yes := false, true
	tests := []struct {
		name       string
		serverName string
		verify     *bool
		roots      *x509.CertPool
		ok         bool
		wantErr    string
	}{
		{"untrusted certificate, verification by default", "example.com", nil, nil, false, "TLS: x509: certificate signed by unknown authority"},
		{"untrusted certificate, verification on", "example.com", &yes, nil, false, "TLS: x509: certificate signed by unknown authority"},
		{"untrusted certificate, wrong name", "svc.example", nil, nil, false, "TLS: x509: certificate is valid for example.com"},
		{"untrusted certificate, verification off", "svc.example", &no, nil, true, ""},
		{"trusted certificate for the name", "example.com", nil, roots, true, ""},
		{"trusted certificate, wrong name", "svc.example", nil, roots, false, "TLS: x509: certificate is valid for example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := targetAt(t, "k", addr, spec(model.CheckHTTPS, func(s *model.CheckSpec) { s.TLSVerify = tt.verify }))
			tg.ServerName = tt.serverName
			e := envFor(tg)
			e.roots = tt.roots
			r := probeOnce(t, e)
			if r.ok != tt.ok || !strings.HasPrefix(r.err, tt.wantErr) {
				t.Fatalf("result %+v, want ok=%v and an error starting %q", r, tt.ok, tt.wantErr)
			}
			if !r.ok && !r.hard {
				t.Errorf("a TLS failure is a hard failure")
			}
		})
	}
}

func TestHTTPTransportErrors(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers: the probe gives up
	}))
	defer slow.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	tests := []struct {
		name    string
		typ     string
		addr    string
		timeout time.Duration
		wantErr string
	}{
		{"refused", model.CheckHTTP, closedPort(t), probeTimeout, "connection refused"},
		{"timeout", model.CheckHTTP, slow.Listener.Addr().String(), 200 * time.Millisecond, "timeout after 200ms"},
		{"https to a plain server", model.CheckHTTPS, plain.Listener.Addr().String(), probeTimeout, "TLS: the endpoint speaks plain HTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.typ, func(s *model.CheckSpec) { s.Timeout = model.Duration(tt.timeout) })
			r := probeOnce(t, envFor(targetAt(t, "k", tt.addr, s)))
			if r.ok || !r.hard || r.err != tt.wantErr {
				t.Fatalf("result %+v, want a hard failure %q", r, tt.wantErr)
			}
		})
	}
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestHostnameTarget resolves a hostname target with Options.Resolver
// (pointed at a test DNS server) and connects to the address it gets.
func TestHostnameTarget(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer web.Close()
	dnsAddr := startDNS(t, dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if q.Question[0].Name == "web.test." {
			if q.Question[0].Qtype == dns.TypeA {
				m.Answer = append(m.Answer, mustRR(t, "web.test. 60 IN A 127.0.0.1"))
			}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	}))
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	e := envFor(Target{Key: "k", Host: "web.test", ServerName: "web.test.", Port: uint16(p), Check: spec(model.CheckHTTP, nil)})
	e.resolver = resolver
	if r := probeOnce(t, e); !r.ok {
		t.Fatalf("probe of a hostname target failed: %s", r.err)
	}

	e = envFor(Target{Key: "k", Host: "gone.test", Port: uint16(p), Check: spec(model.CheckHTTP, nil)})
	e.resolver = resolver
	r := probeOnce(t, e)
	if r.ok || r.hard || !strings.HasPrefix(r.err, "resolve gone.test: ") {
		t.Fatalf("result %+v, want a soft failure to resolve gone.test", r)
	}
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
