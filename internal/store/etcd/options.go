package etcd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Options configures an etcd-backed store.
type Options struct {
	// Endpoints are the etcd client URLs ("https://10.0.0.1:2379").
	Endpoints []string
	// Prefix is the key prefix of this Stratus cluster's store; it must
	// end in "/" ("stratus/prod/").
	Prefix string
	// TLS, when set, is used to reach etcd (server verification and,
	// with Certificates, client certificates).
	TLS *tls.Config
	// Username and Password authenticate to etcd when Username is set.
	Username, Password string
	// DialTimeout bounds the first connection; 0 means 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds each request to etcd once open (a read, a
	// commit, a watch's start); 0 means 5s. A request that etcd does not
	// answer within it fails with store.ErrUnavailable.
	RequestTimeout time.Duration
	// HistoryRevisions, when > 0, limits the watch history this store
	// serves to the last HistoryRevisions revisions (older ones fail with
	// store.ErrCompacted), as store/bolt does. 0 serves whatever etcd
	// retains.
	HistoryRevisions int
	// Logger, when set, gets the engine's debug log: one line per
	// committed Update with the times it ran again after a conflict.
	Logger *slog.Logger
}

func (o *Options) check() error {
	var errs []error
	if len(o.Endpoints) == 0 {
		errs = append(errs, errors.New("no endpoints"))
	}
	for _, e := range o.Endpoints {
		if e == "" {
			errs = append(errs, errors.New("empty endpoint"))
		}
	}
	if o.Prefix == "" || !strings.HasSuffix(o.Prefix, "/") {
		errs = append(errs, fmt.Errorf("prefix %q must be non-empty and end in \"/\"", o.Prefix))
	}
	if o.HistoryRevisions < 0 {
		errs = append(errs, fmt.Errorf("history revisions %d is negative", o.HistoryRevisions))
	}
	if o.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("request timeout %v is negative", o.RequestTimeout))
	}
	if o.Password != "" && o.Username == "" {
		errs = append(errs, errors.New("password without username"))
	}
	return errors.Join(errs...)
}
