package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Options configure the API. Zero values mean the defaults.
type Options struct {
	// MaxZoneFileBytes bounds an uploaded zone file (default 128 MiB, about
	// five million records).
	MaxZoneFileBytes int64
	// MaxZoneRecords and MaxZoneGenerated bound the records of an
	// uploaded zone file after $GENERATE is expanded, and the records its
	// $GENERATE lines make (0: the zonefile package's defaults).
	MaxZoneRecords, MaxZoneGenerated int
	// DefaultNameservers are used for new zones created without any.
	DefaultNameservers []model.Name
	// Logger receives one line per request (never the token).
	Logger *slog.Logger
	// Steering and Health serve the service endpoints (evaluate, endpoint
	// health, events, push reports); without them those answer 503.
	Steering SteeringView
	Health   HealthView
	// Drills starts the server's configured drills; without it starting
	// one answers 503.
	Drills DrillStarter
	// Webhooks sends test alerts; without it POST
	// /v1/webhooks/{name}/test answers 503.
	Webhooks WebhookTester
	// Status reports the node's state (GET /v1/status); without it that
	// answers 503.
	Status func() apiv1.Status
	// Cluster reports the nodes sharing the store (GET /v1/cluster);
	// without it that answers 503.
	Cluster func(ctx context.Context) (apiv1.Cluster, error)
	// RateLimits bound each token's requests and each address's failed
	// authentications (zero values: the defaults).
	RateLimits RateLimits
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client: the address a request's failed authentications count
	// against and its log lines name (clientAddr).
	TrustedProxies []netip.Prefix
	// LongTimeout replaces the server's read and write timeouts for zone
	// file uploads and exports (longRoutes); 0 leaves them.
	LongTimeout time.Duration
	// Clock times the rate limits (default: the system's).
	Clock clock.Clock
	// MetricsHandler serves the node's Prometheus metrics at MetricsPath
	// (default /metrics), outside /v1; nil: metrics are off, and that
	// path answers 404. Without MetricsRequireToken it asks for no token;
	// with it, for one with the scope metrics:read.
	MetricsHandler      http.Handler
	MetricsPath         string
	MetricsRequireToken bool
	// Metrics, when set, gets the requests' counts and durations by
	// route (stratus_api_requests_total, stratus_api_request_duration_seconds).
	Metrics prometheus.Registerer
}

// DrillStarter starts a configured drill in the background
// (*drill.Scheduler).
type DrillStarter interface {
	Start(name, actor string) error
}

// DefaultMaxZoneFileBytes is the default bound on uploaded zone files.
const DefaultMaxZoneFileBytes = 128 << 20

// Handler is the API's http.Handler.
type Handler struct {
	ctl    Control
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	limits *limits
	counts *metrics // requests by route
}

// New returns the API handler over the control plane ctl.
func New(ctl Control, opts Options) *Handler {
	if opts.MaxZoneFileBytes <= 0 {
		opts.MaxZoneFileBytes = DefaultMaxZoneFileBytes
	}
	h := &Handler{ctl: ctl, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = slog.New(ContextLogHandler(h.log.Handler()))
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	h.limits = newLimits(opts.RateLimits, opts.Clock, h.log)
	h.limits.trusted = opts.TrustedProxies
	h.counts = newMetrics(opts.Metrics, h.routes())
	allowed := map[string][]string{}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	for pattern, methods := range allowed {
		allow := strings.Join(methods, ", ")
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			h.writeError(w, r, errorf(http.StatusMethodNotAllowed, apiv1.CodeMethodNotAllowed, "%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
		})
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, errorf(http.StatusNotFound, apiv1.CodeNotFound, "no such API path %s; the API is described at /v1/openapi.json", r.URL.Path))
	})
	return h
}

// ServeHTTP implements http.Handler. A handler's panic answers 500
// (recoverPanic).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	aw := &answerWriter{ResponseWriter: w, code: http.StatusOK}
	h.counts.serve(aw, h.begin(w, r), h.serveRecovering)
}

// serveRecovering serves r, answering 500 to a handler's panic.
func (h *Handler) serveRecovering(w *answerWriter, r *http.Request) {
	defer h.recoverPanic(w, r)
	h.mux.ServeHTTP(w, r)
}

// route is one API endpoint: the scope it needs and its handler.
type route struct {
	method, pattern, scope string
	handle                 func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error
}

// longRoutes may take longer than the server's read and write timeouts
// allow: a zone file of a hundred megabytes on a slow link.
var longRoutes = map[string]bool{
	"GET /v1/zones/{zone}/zonefile": true,
	"PUT /v1/zones/{zone}/zonefile": true,
}

// wrap authenticates under the rate limits, starts the request's span
// (startSpan: only now, so that only a request that authenticated can
// name its parent), authorises, gives a long route its longer deadlines,
// runs the handler, renders its error and logs the request.
func (h *Handler) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.pattern
	long := longRoutes[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		actor := ""
		span := noSpan
		defer func() { span.End() }() // also when the handler panics
		err := func() error {
			if h.public(rt) {
				return rt.handle(sw, r, nil)
			}
			p, err := h.authenticateLimited(r)
			r, span = startSpan(name, rt, w, r, start, err == nil)
			if err != nil {
				return err
			}
			actor = p.Name
			if err := h.limits.takeToken(cmp.Or(p.TokenID, p.Name), p.Name); err != nil {
				return err
			}
			// Every change the request makes is audited as this token's,
			// from this address.
			r = r.WithContext(audit.WithOrigin(r.Context(), audit.Token(p.TokenID, p.Name), r.RemoteAddr))
			if !p.Allows(rt.scope) {
				return errorf(http.StatusForbidden, apiv1.CodePermissionDenied, "token %q lacks the scope %q needed for %s %s", p.Name, rt.scope, r.Method, rt.pattern)
			}
			if err := h.bound(rt, r, p); err != nil {
				return err
			}
			if long {
				// Only now: a request refused above has its unread body
				// discarded by net/http under the server's timeouts, so a
				// client without a token cannot hold the connection open
				// for LongTimeout.
				h.extendDeadlines(w)
			}
			return rt.handle(sw, r, p)
		}()
		if err != nil {
			var rl *rateLimited
			if errors.As(err, &rl) {
				sw.Header().Set("Retry-After", rl.retryAfter)
			}
			h.writeError(sw, r, err)
		}
		spanStatus(span, sw.status)
		level := slog.LevelDebug
		if (r.Method != http.MethodGet || sw.status >= 400) && sw.status != http.StatusTooManyRequests {
			// Refusals over a rate limit are counted in a line of their
			// own (limits.refuse), not one line each.
			level = slog.LevelInfo
		}
		h.log.Log(r.Context(), level, "api request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"actor", actor, "took", time.Since(start).Round(time.Microsecond))
	})
}

// begin gives the request its id (echoed in X-Request-Id) and the
// attributes of every log line written with its context: remote address,
// request id and, over TLS, the client certificate's subject.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) *http.Request {
	id := requestID(r)
	w.Header().Set(RequestIDHeader, id)
	attrs := []slog.Attr{slog.String("remote", r.RemoteAddr), slog.String("request_id", id)}
	if client, ok := clientAddr(r, h.opts.TrustedProxies); ok {
		attrs[0] = slog.String("remote", client.String())
		attrs = append(attrs, slog.String("proxy", r.RemoteAddr))
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		attrs = append(attrs, slog.String("client_cert", r.TLS.PeerCertificates[0].Subject.String()))
	}
	return r.WithContext(withLogAttrs(r.Context(), attrs...))
}

// extendDeadlines gives a long route LongTimeout to read its body and
// write its answer.
func (h *Handler) extendDeadlines(w http.ResponseWriter) {
	if h.opts.LongTimeout <= 0 {
		return
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(h.opts.LongTimeout)
	// Not every ResponseWriter has deadlines (httptest's has none).
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
}

// authenticateLimited authenticates r under the limit on failed
// authentications of its address. A request whose token authenticates is
// never refused by that limit: while the address is over it, the token is
// checked only against the tokens this node holds in memory (no store
// read, no expensive lookup for a guess), and the request is refused with
// 429 only when that fails. Each failure with a token (wrong, unknown,
// expired, malformed) counts against the address; a request without an
// Authorization header costs no lookup and is not counted.
func (h *Handler) authenticateLimited(r *http.Request) (*auth.Principal, error) {
	if wait := h.limits.addressWait(r); wait > 0 {
		if tok, ok := bearer(r); ok {
			if p, err := h.ctl.Tokens.AuthenticateKnown(tok); err == nil {
				return p, nil
			}
		}
		return nil, h.limits.refuseAddress(r, wait)
	}
	p, err := h.authenticate(r)
	if err != nil && toHTTP(err).status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
		h.limits.authFailed(r)
	}
	return p, err
}

// bearer returns the token of r's Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (h *Handler) authenticate(r *http.Request) (*auth.Principal, error) {
	if r.Header.Get("Authorization") == "" {
		return nil, errorf(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "missing bearer token (send Authorization: Bearer <token>)")
	}
	tok, ok := bearer(r)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "the Authorization header must use the Bearer scheme")
	}
	// The stored tokens this node has seen authenticate without a store
	// read, also while the store is unreachable (control.TokenFollower).
	p, err := h.ctl.Tokens.Authenticate(r.Context(), tok)
	if err != nil {
		if he := toHTTP(err); he.status == http.StatusNotFound {
			return nil, errorf(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "invalid bearer token")
		}
		return nil, err
	}
	return p, nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets streamed responses (zone file export) reach the client.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// etag renders a zone serial as an entity tag.
func etag(serial uint32) string { return `"` + strconv.FormatUint(uint64(serial), 10) + `"` }

// ifMatch parses an If-Match header holding one zone serial (quoted or
// not). It returns nil without the header, and for "*".
func ifMatch(r *http.Request) (*uint32, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return nil, nil
	}
	if strings.HasPrefix(v, "W/") {
		return nil, invalid("If-Match", "weak entity tags never match (If-Match compares strongly, RFC 9110 section 13.1.1); send the zone serial as \"42\"")
	}
	v = strings.Trim(v, `"`)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return nil, invalid("If-Match", "want a zone serial such as \"42\" (the zone's ETag), got %q", r.Header.Get("If-Match"))
	}
	s := uint32(n)
	return &s, nil
}

// zoneWriteParams parses the {zone} path segment and the If-Match header
// of a write to a zone.
func zoneWriteParams(r *http.Request) (model.Name, *uint32, error) {
	z, err := zoneParam(r)
	if err != nil {
		return "", nil, err
	}
	im, err := ifMatch(r)
	return z, im, err
}

// zoneParam parses the {zone} path segment.
func zoneParam(r *http.Request) (model.Name, error) {
	z, err := model.ParseName(r.PathValue("zone"))
	if err != nil {
		return "", invalid("zone", "%v", err)
	}
	return z, nil
}
