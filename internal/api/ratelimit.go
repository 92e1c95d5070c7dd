package api

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// RateLimits bound the API's requests with token buckets: each token's
// requests, and each client address's failed authentications (a guess at
// a token costs a request and a hash). Zero values mean the defaults.
type RateLimits struct {
	// PerToken requests per second on average, Burst at once, for each
	// token.
	PerToken float64
	Burst    int
	// FailuresPerAddress failed authentications per second on average,
	// FailuresBurst at once, for each client address (IPv6: each /64).
	// Past them, until its bucket refills, the address's requests are
	// checked only against the tokens the node holds in memory: a token
	// found there is served, any other request gets 429.
	FailuresPerAddress float64
	FailuresBurst      int
}

// Defaults of RateLimits: well above what a function fleet's renewals
// send with one token (10,000 endpoints renewing every 5 s make 2,000 a
// second), so that only a runaway or hostile client meets them, and a
// token cannot take a node's whole capacity for itself.
const (
	DefaultPerToken           = 5000
	DefaultBurst              = 10000
	DefaultFailuresPerAddress = 5
	DefaultFailuresBurst      = 50
)

// maxBuckets bounds each limiter's table. Buckets that have refilled are
// dropped (a full bucket is the same as none); when the table is full of
// buckets in use, new keys share one bucket, which limits them together.
const maxBuckets = 100_000

// sweepEvery is how often a limiter drops its refilled buckets.
const sweepEvery = time.Minute

// limiter is a table of token buckets, one per key.
type limiter struct {
	rate, burst float64
	max         int

	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow bucket // shared by new keys while the table is full
	swept    time.Time
	sweeps   int // sweeps made, for tests
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: maxBuckets, buckets: map[string]*bucket{}}
}

// refill brings b's tokens to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
}

// refillPeriod is how long an empty bucket takes to fill.
func (l *limiter) refillPeriod() time.Duration {
	return time.Duration(l.burst / l.rate * float64(time.Second))
}

// get returns key's bucket, refilled to now: while the table is full, a
// key without a bucket of its own gets the shared overflow bucket. With
// create false, a key without a bucket while the table has room gets nil
// (the same as a full bucket).
//
// A full table is swept at most once a refill period: a sweep on every
// request would walk the whole table under the lock each time, and
// buckets in use do not refill sooner.
func (l *limiter) get(key string, now time.Time, create bool) *bucket {
	since := now.Sub(l.swept)
	if since >= sweepEvery || (len(l.buckets) >= l.max && since >= l.refillPeriod()) {
		l.sweep(now)
	}
	b := l.buckets[key]
	switch {
	case b != nil:
	case len(l.buckets) >= l.max:
		b = &l.overflow
		if b.last.IsZero() {
			b.tokens, b.last = l.burst, now
		}
	case !create:
		return nil
	default:
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	return b
}

// sweep drops the buckets that have refilled.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	l.sweeps++
	for k, b := range l.buckets {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// wait returns how long until key's bucket holds a token: 0 when it holds
// one now.
func (l *limiter) waitLocked(b *bucket) time.Duration {
	if b == nil || b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// take takes a token from key's bucket. When there is none, it takes
// nothing and returns how long until there is one.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now, true)
	if w := l.waitLocked(b); w > 0 {
		return w
	}
	b.tokens--
	return 0
}

// check returns how long until key's bucket holds a token, taking none.
func (l *limiter) check(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(l.get(key, now, false))
}

// size returns the number of buckets kept.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limits are the API's limiters, and the log line saying that they act.
type limits struct {
	clock    clock.Clock
	log      *slog.Logger
	tokens   *limiter
	failures *limiter
	trusted  []netip.Prefix // proxies whose X-Forwarded-For is believed

	mu         sync.Mutex
	refused    map[string]int // kind -> requests refused since the last line
	lastKey    map[string]string
	lastLine   time.Time
	flushArmed bool // a line is due at lastLine+limitLogEvery
}

// limitLogEvery is how often, at most, the API logs that it refused
// requests over a limit; each line counts the ones since the last.
const limitLogEvery = 10 * time.Second

func newLimits(rl RateLimits, c clock.Clock, log *slog.Logger) *limits {
	if rl.PerToken <= 0 {
		rl.PerToken = DefaultPerToken
	}
	if rl.Burst <= 0 {
		rl.Burst = DefaultBurst
	}
	if rl.FailuresPerAddress <= 0 {
		rl.FailuresPerAddress = DefaultFailuresPerAddress
	}
	if rl.FailuresBurst <= 0 {
		rl.FailuresBurst = DefaultFailuresBurst
	}
	return &limits{clock: c, log: log, tokens: newLimiter(rl.PerToken, rl.Burst), failures: newLimiter(rl.FailuresPerAddress, rl.FailuresBurst),
		refused: map[string]int{}, lastKey: map[string]string{}}
}

// remoteIP returns the address of r's peer.
func remoteIP(r *http.Request) (netip.Addr, string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return a.Unmap(), host
}

// clientAddr returns the client a trusted proxy sent r for: when r's
// peer is in trusted, the last address of X-Forwarded-For that is not
// itself in trusted (the one the trusted proxies saw; the ones before it
// are the client's word). ok is false when r did not come through a
// trusted proxy or names no client, and r's peer is the client.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	if len(trusted) == 0 {
		return netip.Addr{}, false
	}
	peer, _ := remoteIP(r)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not written by a proxy: the one after it is the client
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client, client.IsValid()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addressKey is the client address a request's failures count against:
// its IP (through a trusted proxy, the client's, clientAddr), or its /64
// for IPv6, where one client holds a whole /64.
func (l *limits) addressKey(r *http.Request) string {
	a, host := remoteIP(r)
	if c, ok := clientAddr(r, l.trusted); ok {
		a = c
	}
	if !a.IsValid() {
		return host
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// addressWait returns how long until the request's address may fail to
// authenticate again: 0 when it may now.
func (l *limits) addressWait(r *http.Request) time.Duration {
	return l.failures.check(l.addressKey(r), l.clock.Now())
}

// refuseAddress refuses a request from an address that has spent its
// failed authentications, wait before it may fail again.
func (l *limits) refuseAddress(r *http.Request, wait time.Duration) error {
	key := l.addressKey(r)
	return l.refuse("address", key, wait, "too many failed authentications from %s", key)
}

// authFailed counts a failed authentication against the request's
// address.
func (l *limits) authFailed(r *http.Request) {
	l.failures.take(l.addressKey(r), l.clock.Now())
}

// takeToken takes one request from a token's bucket.
func (l *limits) takeToken(id, name string) error {
	if w := l.tokens.take(id, l.clock.Now()); w > 0 {
		return l.refuse("token", name, w, "token %q is over its rate limit of %g requests a second", name, l.tokens.rate)
	}
	return nil
}

// refuse counts a refused request for the log and returns its 429. The
// first refusal is logged at once; the ones after it are counted in a
// line limitLogEvery later.
func (l *limits) refuse(kind, key string, wait time.Duration, format string, args ...any) error {
	l.mu.Lock()
	l.refused[kind]++
	l.lastKey[kind] = key
	now := l.clock.Now()
	var lines []refusedLine
	if since := now.Sub(l.lastLine); since >= limitLogEvery {
		lines = l.takeLinesLocked(now)
	} else if !l.flushArmed {
		l.flushArmed = true
		l.clock.AfterFunc(limitLogEvery-since, l.flush)
	}
	l.mu.Unlock()
	l.write(lines)
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	e := errorf(http.StatusTooManyRequests, apiv1.CodeRateLimited, format+"; retry in %ds", append(args, secs)...)
	return &rateLimited{httpError: e, retryAfter: strconv.FormatInt(secs, 10)}
}

// refusedLine is one log line of refusals over a limit.
type refusedLine struct {
	kind, last string
	refused    int
}

func (l *limits) takeLinesLocked(now time.Time) []refusedLine {
	var lines []refusedLine
	for k, n := range l.refused {
		lines = append(lines, refusedLine{k, l.lastKey[k], n})
	}
	if len(lines) > 0 {
		l.lastLine = now
	}
	clear(l.refused)
	clear(l.lastKey)
	return lines
}

// flush logs the refusals counted since the last line.
func (l *limits) flush() {
	l.mu.Lock()
	l.flushArmed = false
	lines := l.takeLinesLocked(l.clock.Now())
	l.mu.Unlock()
	l.write(lines)
}

func (l *limits) write(lines []refusedLine) {
	for _, ln := range lines {
		l.log.Warn("api rate limit refused requests with 429", "limit", ln.kind, "refused", ln.refused, "last", ln.last)
	}
}

// rateLimited is a 429 with its Retry-After.
type rateLimited struct {
	*httpError
	retryAfter string
}

func (e *rateLimited) Unwrap() error { return e.httpError }
