package testutil

import (
	"testing"

	"github.com/miekg/dns"
)

// ServeDNS starts srv (a DNS server on its own listener or packet conn),
// waits until it serves, and shuts it down when the test ends.
func ServeDNS(t testing.TB, srv *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
}
