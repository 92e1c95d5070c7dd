package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestSteerTCPCheckTarget: TCP checks, and a check target that is not the
// answer. Endpoint t1 answers 127.0.0.5, where nothing listens, but is
// checked at 127.0.0.4:PORT (--check-target); endpoint t2 is checked at
// its own address on the pool's port. Stopping the check target's server
// takes t1 (and only t1) out of the answers; restarting it brings it back.
func TestSteerTCPCheckTarget(t *testing.T) {
	t.Parallel()
	const svc = "tcp.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	target := steerTCPOn(t, "127.0.0.4", 0)
	own := steerTCPOn(t, "127.0.0.6", 0)

	steerService(t, s, fmt.Sprintf(`{"name":%q,"ttl":20,"policy":"failover","pools":[
		{"name":"tcp","check":{"type":"tcp","port":%d,"interval":"1s","fall":2,"rise":2}},
		{"name":"backup","priority":5}]}`, svc, own.Port))
	steerMustCLI(t, s, "endpoint", "register", svc, "t1", "--pool", "tcp", "--address", "127.0.0.5",
		"--check-target", "127.0.0.4:"+strconv.Itoa(target.Port))
	steerMustCLI(t, s, "endpoint", "register", svc, "t2", "--pool", "tcp", "--address", "127.0.0.6")
	steerMustCLI(t, s, "endpoint", "register", svc, "b1", "--pool", "backup", "--address", "127.0.0.7")
	steerWaitState(t, s, svc, "t1", "up", 5*time.Second)
	steerWaitState(t, s, svc, "t2", "up", 5*time.Second)
	steerWaitA(t, s, svc, "127.0.0.5,127.0.0.6", 2*time.Second)
	if target.accepted.Load() == 0 || own.accepted.Load() == 0 {
		t.Fatalf("connections: check target %d, own address %d; want both probed", target.accepted.Load(), own.accepted.Load())
	}
	if e := steerEndpoints(t, s, svc)["t1"]; e.CheckTarget != "127.0.0.4:"+strconv.Itoa(target.Port) || e.Health.RTT == "" {
		t.Errorf("t1 = %+v %+v", e, e.Health)
	}

	// The check target dies: t1 leaves the answers, t2 stays.
	target.Stop()
	steerWaitA(t, s, svc, "127.0.0.6", 5*time.Second)
	if e := steerWaitState(t, s, svc, "t1", "down", 2*time.Second); e.Health.LastError != "connection refused" {
		t.Errorf("t1 last error %q, want connection refused", e.Health.LastError)
	}

	// Both down: the backup pool.
	own.Stop()
	steerWaitA(t, s, svc, "127.0.0.7", 5*time.Second)

	// The check target comes back: t1 is answered again, though nothing
	// listens at its answer address.
	target.Start()
	steerWaitA(t, s, svc, "127.0.0.5", 6*time.Second)
	if e := steerEndpoints(t, s, svc)["t2"]; e.Health.State != "down" {
		t.Errorf("t2 = %+v, want down", e.Health)
	}

	// Checks stop when their endpoint is deregistered. Proving that
	// nothing happens takes waiting, timed by the checks of t2 (same pool,
	// same interval, its own address listening again): four of them span
	// three check intervals, in which a check of t1 still running would
	// connect three times. One connection may come from a probe in flight
	// at the deregistration.
	own.Start()
	steerMustCLI(t, s, "endpoint", "deregister", svc, "t1")
	n, m := target.accepted.Load(), own.accepted.Load()
	steerWait(t, waitFloor, "four checks of t2 after t1 was deregistered", func() (bool, string) {
		checks := own.accepted.Load() - m
		return checks >= 4, fmt.Sprintf("%d checks", checks)
	})
	if got := target.accepted.Load(); got-n > 1 {
		t.Errorf("the check target got %d connections in the four checks of t2 after t1 was deregistered", got-n)
	}
}
