package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// limitedAPI is an API with small rate limits on a fake clock, served
// straight (no listener), so each request's remote address is chosen.
type limitedAPI struct {
	h     *Handler
	clock *clock.Fake
	logs  *testutil.LogBuffer
	svc   *control.Plane
}

func newLimitedAPI(t *testing.T, rl RateLimits) *limitedAPI {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	logs := &testutil.LogBuffer{}
	h := New(PlaneControl(svc), Options{RateLimits: rl, Clock: c, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return &limitedAPI{h: h, clock: c, logs: logs, svc: svc}
}

func (l *limitedAPI) token(t *testing.T, name string) string {
	t.Helper()
	tok, _, err := l.svc.Tokens.CreateToken(context.Background(), name, []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (l *limitedAPI) get(remote, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/v1/zones", nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r)
	return w
}

// TestRateLimitPerToken: a token past its burst gets 429 with
// Retry-After, while another token goes on; after the wait it may go on
// too; the refusals are counted in one log line, not one each.
func TestRateLimitPerToken(t *testing.T) {
	l := newLimitedAPI(t, RateLimits{PerToken: 2, Burst: 3})
	busy, calm := l.token(t, "busy"), l.token(t, "calm")
	for i := range 3 {
		if w := l.get("192.0.2.1:1000", busy); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	for range 5 {
		w := l.get("192.0.2.1:1000", busy)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), apiv1.CodeRateLimited) ||
			!strings.Contains(w.Body.String(), `token \"busy\" is over its rate limit of 2 requests a second`) {
			t.Fatalf("over the burst: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	if w := l.get("192.0.2.1:1000", calm); w.Code != http.StatusOK {
		t.Fatalf("another token: %d %s", w.Code, w.Body)
	}
	l.clock.Step(500 * time.Millisecond) // one request's worth at 2/s
	if w := l.get("192.0.2.1:1000", busy); w.Code != http.StatusOK {
		t.Fatalf("after the wait: %d %s", w.Code, w.Body)
	}
	if w := l.get("192.0.2.1:1000", busy); w.Code != http.StatusTooManyRequests {
		t.Fatalf("the refill was spent: %d", w.Code)
	}
	logs := l.logs.String()
	if n := strings.Count(logs, "api rate limit refused requests"); n != 1 || !strings.Contains(logs, "limit=token refused=1 last=busy") {
		t.Errorf("want one line for the first refusal, the others counted in the next; got %d:\n%s", n, logs)
	}
	if strings.Contains(logs, "status=429") {
		t.Errorf("a refused request logged its own info line:\n%s", logs)
	}
	// The refusals after the first are counted in a line at the end of
	// the period, also when no refusal follows.
	l.clock.Step(limitLogEvery)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(l.logs.String(), "limit=token refused=5 last=busy") {
		if time.Now().After(deadline) {
			t.Fatalf("no line counting the later refusals:\n%s", l.logs)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRateLimitFailedAuthentication: an address that keeps sending bad
// tokens is refused with 429 until its bucket refills, while a good
// token from it is still served (clients behind one proxy or NAT share
// an address); other addresses are not touched.
func TestRateLimitFailedAuthentication(t *testing.T) {
	l := newLimitedAPI(t, RateLimits{FailuresPerAddress: 1, FailuresBurst: 4})
	good := l.token(t, "good")
	for i := range 4 {
		if w := l.get("192.0.2.7:1", "stratus_bad"+strconv.Itoa(i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, w.Code, w.Body)
		}
	}
	for _, tok := range []string{"stratus_bad", "stratus_bad4", ""} {
		w := l.get("192.0.2.7:2", tok)
		if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "too many failed authentications from 192.0.2.7") || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("token %q after the failures: %d %s", tok, w.Code, w.Body)
		}
	}
	for range 10 {
		if w := l.get("192.0.2.7:2", good); w.Code != http.StatusOK {
			t.Fatalf("a good token from the address over its limit: %d %s", w.Code, w.Body)
		}
	}
	if w := l.get("192.0.2.8:1", good); w.Code != http.StatusOK {
		t.Fatalf("another address: %d", w.Code)
	}
	// IPv6 clients count by /64.
	for i := range 4 {
		l.get("[2001:db8::"+strconv.Itoa(i+1)+"]:1", "stratus_bad")
	}
	if w := l.get("[2001:db8::ffff]:1", "stratus_bad"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d", w.Code)
	}
	if w := l.get("[2001:db8::ffff]:1", good); w.Code != http.StatusOK {
		t.Fatalf("a good token from the same /64: %d", w.Code)
	}
	if w := l.get("[2001:db8:0:1::1]:1", "stratus_bad"); w.Code != http.StatusUnauthorized {
		t.Fatalf("another /64: %d", w.Code)
	}
	l.clock.Step(time.Second)
	if w := l.get("192.0.2.7:3", good); w.Code != http.StatusOK {
		t.Fatalf("after the refill: %d %s", w.Code, w.Body)
	}
	// A good token does not count against the address.
	for range 10 {
		if w := l.get("192.0.2.7:3", good); w.Code != http.StatusOK {
			t.Fatalf("good token: %d", w.Code)
		}
	}
}

// TestRateLimitMissingTokenNotCounted: requests without an Authorization
// header (a load balancer's probe) cost no lookup and do not count
// against the address; a wrong token after them is still a 401.
func TestRateLimitMissingTokenNotCounted(t *testing.T) {
	l := newLimitedAPI(t, RateLimits{FailuresPerAddress: 1, FailuresBurst: 4})
	for i := range 20 {
		if w := l.get("192.0.2.9:1", ""); w.Code != http.StatusUnauthorized {
			t.Fatalf("probe %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := l.get("192.0.2.9:1", "stratus_bad"); w.Code != http.StatusUnauthorized {
		t.Fatalf("a wrong token after the probes: %d %s", w.Code, w.Body)
	}
}

// TestRateLimitOverLimitNoStoreRead: from an address over its limit, a
// token the node does not hold is refused with 429 without a store read
// (a guess costs no lookup), and one it holds is served, also without.
func TestRateLimitOverLimitNoStoreRead(t *testing.T) {
	e := newTokenAPIOpts(t, Options{RateLimits: RateLimits{FailuresPerAddress: 0.001, FailuresBurst: 2}})
	for i := range 2 {
		if r := e.do(t, "GET", "/v1/zones", "stratus_000000000000_guess"+strconv.Itoa(i), ""); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	// A well-formed token of an id no node knows: under the limit it
	// would be looked up in the store.
	tok, _, err := auth.Generate()
	if err != nil {
		t.Fatal(err)
	}
	before := e.st.views.Load()
	if r := e.do(t, "GET", "/v1/zones", tok, ""); r.status != http.StatusTooManyRequests {
		t.Fatalf("an unknown token over the limit: %d %s", r.status, r.body)
	}
	if n := e.st.views.Load() - before; n != 0 {
		t.Errorf("an unknown token over the limit read the store %d times, want 0", n)
	}
	if r := e.do(t, "GET", "/v1/zones", e.admin, ""); r.status != http.StatusOK {
		t.Fatalf("a known token over the limit: %d %s", r.status, r.body)
	}
}

// TestLimiterFullTable: with the table full, new keys share the overflow
// bucket, which limits them (check sees it too), and the table is swept
// at most once a refill period, not on every request.
func TestLimiterFullTable(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(1, 2) // refills in 2 s
	l.max = 3
	for i := range 3 {
		l.take("k"+strconv.Itoa(i), now)
	}
	sweeps := l.sweeps
	if w := l.check("new-a", now); w != 0 {
		t.Fatalf("the overflow bucket is empty before use: %v", w)
	}
	l.take("new-a", now)
	l.take("new-b", now)
	if w := l.check("new-c", now); w == 0 {
		t.Errorf("check lets a new key through the spent overflow bucket")
	}
	if w := l.take("new-d", now); w == 0 {
		t.Errorf("take lets a new key through the spent overflow bucket")
	}
	for i := range 100 {
		l.check("more"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := l.sweeps - sweeps; n != 0 {
		t.Errorf("%d sweeps of a full table within its refill period, want 0", n)
	}
	// Once the period has passed, one sweep frees the refilled buckets.
	now = now.Add(2 * time.Second)
	for range 10 {
		l.take("after", now)
	}
	if n := l.sweeps - sweeps; n != 1 {
		t.Errorf("%d sweeps after the refill period, want 1", n)
	}
}

// TestLimiterBounded: buckets that have refilled are dropped, and keys
// beyond the table's bound share one bucket, so memory stays bounded
// whatever the number of keys.
func TestLimiterBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10, 2)
	l.max = 100
	for i := range 1000 {
		l.take("k"+strconv.Itoa(i), now)
	}
	if n := l.size(); n > l.max {
		t.Fatalf("%d buckets, bound %d", n, l.max)
	}
	// The keys beyond the bound share a bucket: two takes empty it.
	l.take("new-a", now)
	l.take("new-b", now)
	if w := l.take("new-c", now); w == 0 {
		t.Errorf("a key beyond the bound was given a bucket of its own")
	}
	// A second later all have refilled, and the next take sweeps them.
	now = now.Add(time.Second)
	l.take("fresh", now)
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after the sweep, want 1", n)
	}
	// Idle buckets go at the minute's sweep.
	now = now.Add(sweepEvery)
	l.check("other", now)
	if n := l.size(); n != 0 {
		t.Errorf("%d buckets after a minute idle", n)
	}
}

// TestRateLimitTrustedProxy: behind a proxy in api.trusted_proxies, the
// failed authentications count against the client X-Forwarded-For
// names, and the log names it; a peer that is not trusted is counted as
// itself whatever its X-Forwarded-For says.
func TestRateLimitTrustedProxy(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	logs := &testutil.LogBuffer{}
	h := New(PlaneControl(svc), Options{RateLimits: RateLimits{FailuresPerAddress: 1, FailuresBurst: 2}, Clock: c,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	get := func(remote, xff string) int {
		r := httptest.NewRequest(http.MethodGet, "/v1/zones", nil)
		r.RemoteAddr = remote
		r.Header.Set("Authorization", "Bearer stratus_bad")
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, tc := range []struct {
		remote, xff string
		want        int
	}{
		// The client's own word (the first entry) is not believed; the
		// one the trusted proxy added is.
		{"127.0.0.1:5", "198.51.100.9, 203.0.113.1", http.StatusUnauthorized},
		{"127.0.0.2:5", "203.0.113.1, 127.0.0.1", http.StatusUnauthorized},
		{"127.0.0.1:5", "203.0.113.1", http.StatusTooManyRequests},
		{"127.0.0.1:5", "203.0.113.2", http.StatusUnauthorized},
		{"127.0.0.1:5", "", http.StatusUnauthorized}, // the proxy itself
		{"192.0.2.1:5", "203.0.113.3", http.StatusUnauthorized},
		{"192.0.2.1:5", "203.0.113.4", http.StatusUnauthorized},
		{"192.0.2.1:5", "203.0.113.5", http.StatusTooManyRequests},
	} {
		if got := get(tc.remote, tc.xff); got != tc.want {
			t.Errorf("from %s for %q: %d, want %d", tc.remote, tc.xff, got, tc.want)
		}
	}
	if s := logs.String(); !strings.Contains(s, "remote=203.0.113.2 request_id=") || !strings.Contains(s, "proxy=127.0.0.1:5") ||
		!strings.Contains(s, "remote=192.0.2.1:5 request_id=") {
		t.Errorf("log:\n%s", s)
	}
}
