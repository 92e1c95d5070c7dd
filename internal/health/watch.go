package health

import (
	"net"
	"sync/atomic"
)

// watchedConn wraps a kept-alive connection. The HTTP transport keeps a
// read pending on every idle connection; when that read fails (the
// endpoint closed or reset the connection) and neither the checker closed
// the connection nor a probe is running, dead is called so that the
// target is probed at once.
type watchedConn struct {
	net.Conn
	closed atomic.Bool
	dead   func()
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && !c.closed.Load() {
		c.dead()
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}
