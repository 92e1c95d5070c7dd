package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestFailoverTimes measures, from outside the process, how long a dead
// endpoint keeps being answered: a real HTTP endpoint on 127.0.0.x is
// killed while a client queries every 50 ms, and the time from the kill to
// the first answer without it is recorded. Also measured: deregistration
// and push-down (visible at the next query) and lease lapse (within the
// lease + 250 ms). It is a benchmark, not a test: it runs only with
// STRATUS_BENCH=1 and reports min/median/max over STRATUS_BENCH_RUNS runs
// (default 10).
func TestFailoverTimes(t *testing.T) {
	runs := benchOnly(t, 10)
	s := startServer(t, "")
	s.mustCLI("zone", "create", "fn.example.com", "--ns", "ns1.example.net.")
	backup := startHTTP(t, "127.0.0.3:0")
	defer backup.Close()
	_, port, _ := net.SplitHostPort(backup.Addr)
	svc := fmt.Sprintf(`{"name":"api.fn.example.com","ttl":1,"pools":[
		{"name":"primary","priority":1,"check":{"type":"http","port":%s,"interval":"1s","fall":2,"rise":2}},
		{"name":"backup","priority":2,"check":{"type":"http","port":%s,"interval":"1s"}},
		{"name":"pushed","priority":0,"check":{"type":"push","push_ttl":"1h"}}]}`, port, port)
	if st, body := s.api("POST", "/v1/services", svc); st != 201 {
		t.Fatalf("create service: %d %s", st, body)
	}
	s.api("PUT", "/v1/services/api.fn.example.com/endpoints/b1", `{"pool":"backup","address":"127.0.0.3"}`)

	for _, keepAlive := range []bool{true, false} {
		var kill []time.Duration
		for run := range runs {
			primary := startHTTPOn(t, "127.0.0.2:"+port)
			primary.srv.SetKeepAlivesEnabled(keepAlive)
			s.api("PUT", "/v1/services/api.fn.example.com/endpoints/p1", `{"pool":"primary","address":"127.0.0.2"}`)
			waitChecked(t, s, "p1", 10*time.Second)
			waitAnswer(t, s.dnsAddr, "127.0.0.2", 10*time.Second)
			time.Sleep(time.Duration(run%10) * 100 * time.Millisecond) // vary the phase against the check interval
			start := time.Now()
			primary.Close()
			kill = append(kill, waitAnswerFrom(t, s.dnsAddr, "127.0.0.3", start, 10*time.Second))
			s.api("DELETE", "/v1/services/api.fn.example.com/endpoints/p1", "")
		}
		report(t, fmt.Sprintf("endpoint killed (HTTP keep-alive=%v, interval 1s, fall 2)", keepAlive), kill)
	}

	// Deregistration and push-down show on the next query.
	var dereg, push []time.Duration
	for range runs {
		s.api("PUT", "/v1/services/api.fn.example.com/endpoints/p0", `{"pool":"pushed","address":"127.0.0.4"}`)
		s.api("POST", "/v1/services/api.fn.example.com/endpoints/p0/health", `{"up":true}`)
		waitAnswer(t, s.dnsAddr, "127.0.0.4", 5*time.Second)
		start := time.Now()
		s.api("POST", "/v1/services/api.fn.example.com/endpoints/p0/health", `{"up":false,"reason":"bench"}`)
		push = append(push, waitAnswerFrom(t, s.dnsAddr, "127.0.0.3", start, 5*time.Second))
		s.api("POST", "/v1/services/api.fn.example.com/endpoints/p0/health", `{"up":true}`)
		waitAnswer(t, s.dnsAddr, "127.0.0.4", 5*time.Second)
		start = time.Now()
		s.api("DELETE", "/v1/services/api.fn.example.com/endpoints/p0", "")
		dereg = append(dereg, waitAnswerFrom(t, s.dnsAddr, "127.0.0.3", start, 5*time.Second))
	}
	report(t, "push report down (from the API call)", push)
	report(t, "deregistration (from the API call)", dereg)

	// Lease lapse: within lease + 250 ms. Measured against the expiry the
	// server stamped (same clock), querying every millisecond from just
	// before it, so the figure is not the query interval's phase.
	var lapse []time.Duration
	for range runs {
		st, body := s.api("PUT", "/v1/services/api.fn.example.com/endpoints/l1", `{"pool":"pushed","address":"127.0.0.5","ttl":"2s"}`)
		if st >= 300 {
			t.Fatalf("register: %d %s", st, body)
		}
		var ep struct{ Expires time.Time }
		if err := json.Unmarshal([]byte(body), &ep); err != nil || ep.Expires.IsZero() {
			t.Fatalf("register: no expiry in %s (%v)", body, err)
		}
		s.api("POST", "/v1/services/api.fn.example.com/endpoints/l1/health", `{"up":true}`)
		waitAnswer(t, s.dnsAddr, "127.0.0.5", 2*time.Second)
		time.Sleep(time.Until(ep.Expires.Add(-20 * time.Millisecond)))
		gone := pollAnswer(t, s.dnsAddr, "127.0.0.3", time.Millisecond, 10*time.Second)
		lapse = append(lapse, gone.Sub(ep.Expires))
	}
	report(t, "lease lapse after its 2s lease (from the stamped expiry)", lapse)
}

// waitChecked waits until a check has found the endpoint up.
func waitChecked(t *testing.T, s *server, id string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		_, body := s.api("GET", "/v1/services/api.fn.example.com/endpoints/"+id, "")
		if strings.Contains(body, `"state": "up"`) && strings.Contains(body, `"last_check"`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("endpoint %s not checked up within %v", id, limit)
}

func report(t *testing.T, what string, d []time.Duration) {
	slices.Sort(d)
	t.Logf("%-52s n=%d min=%v median=%v max=%v", what, len(d), d[0].Round(time.Millisecond), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
}

// waitAnswer queries every 50 ms until the A answer contains want and
// returns how long that took.
func waitAnswer(t *testing.T, addr, want string, limit time.Duration) time.Duration {
	t.Helper()
	return waitAnswerFrom(t, addr, want, time.Now(), limit)
}

// waitAnswerFrom queries every 50 ms (STRATUS_BENCH_QUERY_MS) until the A
// answer is exactly want and returns the time of that answer since start.
func waitAnswerFrom(t *testing.T, addr, want string, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	every := 50 * time.Millisecond
	if ms := os.Getenv("STRATUS_BENCH_QUERY_MS"); ms != "" {
		var n int
		fmt.Sscan(ms, &n)
		every = time.Duration(n) * time.Millisecond
	}
	return pollAnswer(t, addr, want, every, limit-time.Since(start)).Sub(start)
}

// pollAnswer queries every interval until the A answer is exactly want and
// returns when the query that got it was sent.
func pollAnswer(t *testing.T, addr, want string, every, limit time.Duration) time.Time {
	t.Helper()
	c := &dns.Client{Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion("api.fn.example.com.", dns.TypeA)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		sent := time.Now()
		r, _, err := c.Exchange(m, addr)
		if err == nil {
			var got []string
			for _, rr := range r.Answer {
				if a, ok := rr.(*dns.A); ok {
					got = append(got, a.A.String())
				}
			}
			if strings.Join(got, ",") == want {
				return sent
			}
		}
		time.Sleep(every)
	}
	t.Fatalf("no answer %s within %v", want, limit)
	return time.Time{}
}

type httpServer struct {
	Addr string
	srv  *http.Server
}

func (h *httpServer) Close() { h.srv.Close() }

func startHTTP(t *testing.T, addr string) *httpServer { return startHTTPOn(t, addr) }

// startHTTPOn serves 200 OK with keep-alive on addr (127.0.0.x only).
func startHTTPOn(t *testing.T, addr string) *httpServer {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &httpServer{Addr: l.Addr().String(), srv: srv}
}
