package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/model"
)

// benchProbe runs one prober against a local server per iteration; the
// figures include the server's work in the same process.
func benchProbe(b *testing.B, tg Target) {
	e := envFor(tg)
	p, err := newProber(e)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := p.probe(ctx); !r.ok {
			b.Fatalf("probe failed: %s", r.err)
		}
	}
}

// BenchmarkProbeHTTP: a GET on a kept-alive connection.
func BenchmarkProbeHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	benchProbe(b, targetAt(b, "k", srv.Listener.Addr().String(), spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.BodyContains = "ok"
	})))
}

// BenchmarkProbeHTTPS: a GET on a kept-alive TLS connection.
func BenchmarkProbeHTTPS(b *testing.B) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	no := false
	benchProbe(b, targetAt(b, "k", srv.Listener.Addr().String(), spec(model.CheckHTTPS, func(s *model.CheckSpec) {
		s.TLSVerify = &no
	})))
}

// BenchmarkProbeTCP: a connect, with the previous connection closed and
// the new one watched.
func BenchmarkProbeTCP(b *testing.B) {
	srv := startTCP(b)
	benchProbe(b, targetAt(b, "k", srv.addr(), spec(model.CheckTCP, nil)))
}

// BenchmarkProbeDNS: one UDP query.
func BenchmarkProbeDNS(b *testing.B) {
	addr := startDNS(b, dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		w.WriteMsg(m)
	}))
	benchProbe(b, targetAt(b, "k", addr, spec(model.CheckDNS, func(s *model.CheckSpec) { s.QName = "example.test." })))
}
