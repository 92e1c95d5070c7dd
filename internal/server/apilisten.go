package server

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"

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
// exports api.zonefile_timeout (api.Options.LongTimeout).
func apiServer(a config.API, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(a.ReadHeaderTimeout, config.DefaultAPIReadHeaderTimeout),
		ReadTimeout:       cmp.Or(a.ReadTimeout, config.DefaultAPIReadTimeout),
		WriteTimeout:      cmp.Or(a.WriteTimeout, config.DefaultAPIWriteTimeout),
		IdleTimeout:       cmp.Or(a.IdleTimeout, config.DefaultAPIIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
