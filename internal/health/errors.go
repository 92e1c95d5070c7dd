package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// resolveError is a failure to resolve a hostname target. It is a soft
// failure: re-probing at once would ask the same resolver the same thing.
type resolveError struct {
	host string
	err  error
}

func (e *resolveError) Error() string {
	msg := e.err.Error()
	var dnsErr *net.DNSError
	if errors.As(e.err, &dnsErr) {
		msg = dnsErr.Err
	}
	return fmt.Sprintf("resolve %s: %s", e.host, msg)
}

func (e *resolveError) Unwrap() error { return e.err }

// timedOut reports whether a probe's transport error is its timeout.
func timedOut(err error) bool {
	var nerr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()
}

// describe turns a probe's transport error into a short, human message
// ("connection refused", "timeout after 2s", "TLS: x509: ...") and says
// whether it is a hard failure: one that means the endpoint cannot be
// reached at all (refused, reset, closed, TLS handshake failure, timeout,
// no route), which is confirmed by an immediate re-probe.
func describe(err error, timeout time.Duration) (msg string, hard bool) {
	var rerr *resolveError
	if errors.As(err, &rerr) {
		return rerr.Error(), false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout after " + timeout.String(), true
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return "timeout after " + timeout.String(), true
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "connection reset", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return "no route to host", true
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable", true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the endpoint", true
	}
	var cverr *tls.CertificateVerificationError
	if errors.As(err, &cverr) {
		return "TLS: " + cverr.Err.Error(), true
	}
	var (
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &invErr):
		return "TLS: " + innermost(err), true
	case errors.As(err, &recErr):
		return "TLS: the endpoint does not speak TLS", true
	case errors.As(err, &alert):
		return "TLS: " + alert.Error(), true
	}
	msg = innermost(err)
	if strings.Contains(msg, "server gave HTTP response to HTTPS client") {
		return "TLS: the endpoint speaks plain HTTP", true
	}
	if strings.HasPrefix(msg, "tls: ") || strings.Contains(msg, "x509: ") {
		return "TLS: " + strings.TrimPrefix(msg, "tls: "), true
	}
	return msg, false
}

// innermost strips the wrappers that only repeat the request (url.Error:
// `Get "http://...": `, net.OpError: "dial tcp 1.2.3.4:80: ") and returns
// the message of what went wrong.
func innermost(err error) string {
	for {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
			continue
		}
		var operr *net.OpError
		if errors.As(err, &operr) && operr.Err != nil {
			err = operr.Err
			continue
		}
		var serr *os.SyscallError
		if errors.As(err, &serr) {
			return serr.Err.Error()
		}
		return err.Error()
	}
}
