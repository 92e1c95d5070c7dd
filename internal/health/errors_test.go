package health

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://svc.example/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}}
	}
	tests := []struct {
		name string
		err  error
		msg  string
		hard bool
	}{
		{"refused", dial(syscall.ECONNREFUSED), "connection refused", true},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection reset", true},
		{"no route", dial(syscall.EHOSTUNREACH), "no route to host", true},
		{"network unreachable", dial(syscall.ENETUNREACH), "network unreachable", true},
		{"deadline", fmt.Errorf("probe: %w", context.DeadlineExceeded), "timeout after 2s", true},
		{"i/o timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, "timeout after 2s", true},
		{"eof", &url.Error{Op: "Get", URL: "http://x/", Err: io.EOF}, "connection closed by the endpoint", true},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://x/", Err: x509.UnknownAuthorityError{}}, "TLS: x509: certificate signed by unknown authority", true},
		{"resolve", &resolveError{host: "gone.test", err: &net.DNSError{Err: "no such host", Name: "gone.test", IsNotFound: true}}, "resolve gone.test: no such host", false},
		{"other", &url.Error{Op: "Get", URL: "http://x/", Err: errors.New("malformed HTTP response")}, "malformed HTTP response", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, hard := describe(tt.err, 2*time.Second)
			if msg != tt.msg || hard != tt.hard {
				t.Errorf("describe(%v) = %q, %v; want %q, %v", tt.err, msg, hard, tt.msg, tt.hard)
			}
		})
	}
}
