package server

import (
	"cmp"
	"crypto/tls"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/config"
)

// checkAPIListen refuses to serve plain HTTP on an address other hosts
// can reach: bearer tokens would cross the network in clear.
func checkAPIListen(a config.API) error {
	if a.TLS != nil || a.AllowInsecureHTTP || a.Loopback() {
		return nil
	}
	return fmt.Errorf("api.listen: %s is not a loopback address, and plain HTTP would send the API's bearer tokens across the network in clear; "+
		"configure api.tls (cert_file, key_file), or listen on 127.0.0.1, or set api.allow_insecure_http: true (serve --api-insecure-http) "+
		"to serve plain HTTP there anyway (behind a TLS proxy on the same host, say)", a.Listen)
}

// listenAPI opens the API's listener: TLS with api.tls, its files read
// again when they change.
func listenAPI(a config.API, c clock.Clock, log *slog.Logger) (net.Listener, error) {
	if err := checkAPIListen(a); err != nil {
		return nil, err
	}
	var conf *tls.Config
	if a.TLS != nil {
		files, err := newTLSFiles(*a.TLS, c, log)
		if err != nil {
			return nil, err
		}
		conf = files.serverConfig()
	}
	ln, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %s: %w", a.Listen, err)
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	return ln, nil
}

// apiServer is the API's HTTP server with the timeouts of the api
// section. A request must arrive whole within api.read_timeout and be
// answered within api.write_timeout; the API gives zone file uploads and
// exports api.zonefile_timeout (api.Options.LongTimeout). Its error log
// (failed TLS handshakes, mostly) is rate limited.
func apiServer(a config.API, h http.Handler, c clock.Clock, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(a.ReadHeaderTimeout, config.DefaultAPIReadHeaderTimeout),
		ReadTimeout:       cmp.Or(a.ReadTimeout, config.DefaultAPIReadTimeout),
		WriteTimeout:      cmp.Or(a.WriteTimeout, config.DefaultAPIWriteTimeout),
		IdleTimeout:       cmp.Or(a.IdleTimeout, config.DefaultAPIIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(&serverErrorLog{log: log, clock: c}, "", 0),
	}
}

// The API server's error log writes at most serverErrorBurst lines every
// serverErrorEvery; a line at the end of such a period counts the lines
// it left out.
const (
	serverErrorBurst = 10
	serverErrorEvery = 10 * time.Second
)

// serverErrorLog is the http.Server's error log: each message a warning,
// rate limited so that a flood of failed handshakes does not flood the
// log.
type serverErrorLog struct {
	log   *slog.Logger
	clock clock.Clock

	mu         sync.Mutex
	start      time.Time // of the current period
	written    int       // lines written in it
	suppressed int       // lines left out in it
}

func (w *serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	w.mu.Lock()
	now := w.clock.Now()
	if now.Sub(w.start) >= serverErrorEvery {
		w.start, w.written = now, 0
	}
	if w.written >= serverErrorBurst {
		if w.suppressed == 0 {
			w.clock.AfterFunc(serverErrorEvery-now.Sub(w.start), w.flush)
		}
		w.suppressed++
		w.mu.Unlock()
		return len(p), nil
	}
	w.written++
	w.mu.Unlock()
	w.log.Warn(msg)
	return len(p), nil
}

// flush logs how many lines the last period left out.
func (w *serverErrorLog) flush() {
	w.mu.Lock()
	n := w.suppressed
	w.suppressed = 0
	w.mu.Unlock()
	w.log.Warn("api server: error lines left out (at most 10 are logged every 10s)", "left_out", n)
}
