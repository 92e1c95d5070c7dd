// Package alert names the events operators are alerted to — a failover
// that starts or ends, an endpoint that goes down or comes back, a lease
// that lapses, a service whose all-down policy engages, a failed drill, a
// secondary zone that expires — and the Sink the packages that see them
// emit them to. Emit never blocks and never fails: whatever delivers the
// alerts (webhooks) keeps its own queue.
package alert
