package server

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/healthview"
	"github.com/stratusdns/stratus/internal/store"
)

// voteSessionTTL is how long a node's health votes outlive its last
// contact with etcd.
const voteSessionTTL = 10 * time.Second

// nodeName names this node in the cluster: the host name and the API
// port (the process id when the port is chosen at start), unique among
// nodes sharing one host.
func nodeName(cfg config.Config) string {
	host, _ := os.Hostname()
	if host == "" {
		host = "stratus"
	}
	if _, port, err := net.SplitHostPort(cfg.API.Listen); err == nil && port != "0" && port != "" {
		return host + ":" + port
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// eventsNode is the node whose events this node keeps in the store: its
// name on etcd, where several nodes share the store, and none (the layout
// of a node alone) on bbolt.
func eventsNode(cfg config.Config) string {
	if cfg.Store.Etcd == nil {
		return ""
	}
	return nodeName(cfg)
}

// followVotes shares the node's health votes through a session of a
// shared store (etcd), opening a new session whenever one ends, until
// ctx is done. A store of one node has no session: the view is the
// node's own checks.
func followVotes(ctx context.Context, st store.Store, view *healthview.View, log interface {
	Warn(msg string, args ...any)
}) {
	sh, ok := st.(store.Shared)
	if !ok {
		return
	}
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		sess, err := sh.Session(ctx, view.Node(), voteSessionTTL)
		if err != nil {
			log.Warn("cannot open a session to share health votes; retrying", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 10*time.Second)
			continue
		}
		wait = 100 * time.Millisecond
		view.Run(ctx, sess)
		sess.Close()
	}
}
