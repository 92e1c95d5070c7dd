package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// explain turns the error of Open's first exchange with etcd into one that
// says what failed: the credentials, the role's permissions, or (when the
// client only saw a timeout) the TLS handshake, found by dialing the
// endpoints directly.
func explain(ctx context.Context, opts *Options, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return fmt.Errorf("etcd refused user %q: wrong username or password: %w", opts.Username, err)
	case errors.Is(err, rpctypes.ErrUserEmpty):
		return fmt.Errorf("etcd has authentication enabled: set a username and password: %w", err)
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return fmt.Errorf("etcd user %q may not read the prefix %q: grant it a role with readwrite permission on the prefix: %w", opts.Username, opts.Prefix, err)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		var errs []error
		for _, ep := range opts.Endpoints {
			if perr := probeTLS(ep, opts.TLS, timeout); perr != nil {
				errs = append(errs, perr)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w (%w)", errors.Join(errs...), err)
		}
	}
	return err
}

// probeTLS dials endpoint the way the client would and returns what fails
// in the TLS handshake, or nil when it finds nothing wrong.
func probeTLS(endpoint string, cfg *tls.Config, timeout time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil
	}
	secure := u.Scheme == "https" || u.Scheme == "unixs"
	if !secure && cfg == nil {
		return nil
	}
	if cfg == nil {
		return fmt.Errorf("endpoint %s is https but no TLS configuration was given", endpoint)
	}
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		return nil
	}
	c := cfg.Clone()
	if c.ServerName == "" {
		c.ServerName = u.Hostname()
	}
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", u.Host, c)
	if err != nil {
		return fmt.Errorf("TLS handshake with %s: %w", endpoint, err)
	}
	defer conn.Close()
	// With TLS 1.3 the server judges the client certificate after the
	// handshake: its refusal arrives as an alert on the first read.
	_ = conn.SetReadDeadline(time.Now().Add(min(timeout, 500*time.Millisecond)))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return fmt.Errorf("TLS with %s: the server refused the client certificate: %w", endpoint, err)
}
