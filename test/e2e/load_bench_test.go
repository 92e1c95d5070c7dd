package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// benchOnly skips a benchmark unless STRATUS_BENCH=1, and returns its
// number of runs: STRATUS_BENCH_RUNS, else def.
func benchOnly(t *testing.T, def int) int {
	t.Helper()
	if os.Getenv("STRATUS_BENCH") != "1" {
		t.Skip("a benchmark: set STRATUS_BENCH=1 to run it")
	}
	if n := os.Getenv("STRATUS_BENCH_RUNS"); n != "" {
		fmt.Sscan(n, &def)
	}
	return def
}

// optimizedBinary builds stratus without the race detector, for
// benchmarks.
func optimizedBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stratus")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/stratusdns/stratus/cmd/stratus").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestRegistrationLoad keeps 10,000 registered endpoints renewing every 5 s
// (2,000 durable renewals a second) while queries are served, and reports
// the renewal latency percentiles and the query rate beside the rate
// without renewals. A benchmark: it runs only with STRATUS_BENCH=1.
func TestRegistrationLoad(t *testing.T) {
	benchOnly(t, 0)
	const endpoints, period, duration = 10000, 5 * time.Second, 30 * time.Second
	s := startServerWith(t, optimizedBinary(t), "")
	s.mustCLI("zone", "create", "fn.example.com", "--ns", "ns1.example.net.")
	if st, body := s.api("POST", "/v1/services", `{"name":"api.fn.example.com","policy":"multivalue","max_answers":4,"pools":[{"name":"p"}]}`); st != 201 {
		t.Fatalf("service: %d %s", st, body)
	}
	token := s.token()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	call := func(method, path, body string) (time.Duration, error) {
		req, _ := http.NewRequest(method, "http://"+s.apiAddr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		if res.StatusCode >= 300 {
			return 0, fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
		}
		return time.Since(start), nil
	}
	// Register them all.
	jobs := make(chan int)
	var wg sync.WaitGroup
	regStart := time.Now()
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"pool":"p","address":"10.%d.%d.%d","ttl":"30s"}`, i>>16, (i>>8)&255, i&255)
				if _, err := call("PUT", fmt.Sprintf("/v1/services/api.fn.example.com/endpoints/e%d", i), body); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range endpoints {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("registered %d endpoints in %v", endpoints, time.Since(regStart).Round(time.Millisecond))

	queries := func(d time.Duration) float64 {
		var n atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		var qwg sync.WaitGroup
		for range 4 {
			qwg.Add(1)
			go func() {
				defer qwg.Done()
				c, err := (&dns.Client{Timeout: time.Second}).Dial(s.dnsAddr)
				if err != nil {
					return
				}
				defer c.Close()
				m := new(dns.Msg)
				m.SetQuestion("api.fn.example.com.", dns.TypeA)
				for ctx.Err() == nil {
					if err := c.WriteMsg(m); err != nil {
						return
					}
					c.SetReadDeadline(time.Now().Add(time.Second))
					if _, err := c.ReadMsg(); err == nil {
						n.Add(1)
					}
				}
			}()
		}
		qwg.Wait()
		return float64(n.Load()) / d.Seconds()
	}
	baseline := queries(10 * time.Second)

	// Renewals: every endpoint every 5 s, spread evenly.
	var lat []time.Duration
	var mu sync.Mutex
	var failed atomic.Int64
	stop := make(chan struct{})
	renew := make(chan int, 4096)
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range renew {
				d, err := call("POST", fmt.Sprintf("/v1/services/api.fn.example.com/endpoints/e%d/renew", i), "")
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	go func() {
		// Keep the rate exact whatever the ticker's drift: issue as many
		// renewals as are due by the clock.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		begin, i := time.Now(), 0
		rate := float64(endpoints) / period.Seconds()
		for {
			select {
			case <-stop:
				close(renew)
				return
			case <-tick.C:
				for due := int(time.Since(begin).Seconds() * rate); i < due; i++ {
					renew <- i % endpoints
				}
			}
		}
	}()
	start := time.Now()
	during := queries(duration)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)].Round(100 * time.Microsecond) }
	t.Logf("renewals: %d in %v = %.0f/s, %d failed; latency p50 %v p90 %v p99 %v max %v",
		len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), failed.Load(), pct(0.5), pct(0.9), pct(0.99), lat[len(lat)-1])
	t.Logf("queries (4 TCP clients, pipelined one at a time): %.0f/s without renewals, %.0f/s during renewals (%.2f)", baseline, during, during/baseline)
	// Every endpoint is still answered: no lease lapsed.
	_, body := s.api("GET", "/v1/services/api.fn.example.com/evaluate", "")
	if !strings.Contains(body, `"10,000 of 10,000`) && !strings.Contains(body, "10000 of 10000 endpoints up") {
		t.Errorf("not every endpoint is up after the run: %.400s", body)
	}
}
