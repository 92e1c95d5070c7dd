// Package health checks endpoints and keeps their health: probes (HTTP,
// HTTPS, TCP, DNS), pushed reports, rise/fall thresholds, flap damping and
// an event log of every change.
//
// The parts are separate: a Prober knows how to run one probe and nothing
// of thresholds; a per-target state machine turns raw results into an
// effective state; one goroutine per target schedules its probes (jittered
// first run, one probe in flight, a global bound on concurrent probes).
// A hard failure (connection refused or reset, TLS failure, timeout) is
// confirmed by an immediate re-probe instead of waiting for the next
// interval, and a watched keep-alive connection that the endpoint closes
// triggers a probe at once, so a dead endpoint is noticed within
// milliseconds while one lost probe never changes a state.
//
// The checker never touches the store or the query path: the control
// plane hands it targets (SetTargets) and reads statuses back when it is
// told which targets changed (Options.OnChange).
//
// # States
//
// A target starts Unknown. Its first result decides at once (Up or Down);
// after that Rise consecutive successes take it from Down to Up and Fall
// consecutive failures from Up to Down. Successes count toward Rise only
// when they come at least three quarters of the interval apart (on
// Options.Clock), so coming back up takes checks spread over the interval:
// a probe that hung while the endpoint was frozen and the scheduled one
// just after it, or a probe a watched connection triggered, count once.
// Failures count as they come. A target of type none is Up at
// once and never probed. A push target is never probed: each Push sets
// its state directly, and without a new push within PushTTL it goes Down
// ("push report expired"). When a target's check changes, it restarts:
// between probed types it keeps its state until the new check's first
// result, which decides at once; otherwise it starts over from Unknown.
//
// # Probes
//
// HTTP and HTTPS probes ask for <scheme>://<name>[:port]<path>, where the
// name is the check's Host, else the target's ServerName, else its
// address: that name is the Host header and the TLS SNI, while the
// connection always goes to the target's address (a hostname target is
// resolved with Options.Resolver). Certificates are verified unless the
// check's TLSVerify is false. Success is a status in ExpectStatus and, when
// BodyContains is set, that text within the first 64 KiB of the body.
// Redirects are not followed. Each target has its own transport keeping
// one connection alive between probes.
//
// TCP probes connect. DNS probes send one query over UDP (over TCP again
// when the answer is truncated) for the check's QName, else the target's
// ServerName, else the root "."; of type QType (SOA by default), with RD
// set as dig does. Success is the expected rcode and, when ExpectAnswer is
// set, an answer record whose text contains it. Every probe ends within
// the check's Timeout.
//
// A failure to reach the endpoint at all (refused, reset, closed, no
// route, TLS handshake failure, timeout) is hard: while the target is Up
// and short of Fall failures it is probed again at once, so with Fall 2 a
// refused connection takes it Down within milliseconds and a single lost
// probe followed by a success changes nothing. A wrong answer (status,
// body, rcode, answer) or a failure to resolve the target's hostname is
// soft and waits for the next interval.
//
// # Connection watching
//
// Between probes, the kept-alive HTTP(S) connection has a read pending in
// the transport, and a TCP probe's connection stays open with a read
// pending on it. When such a read fails while no probe runs and the
// checker did not close the connection itself (the endpoint closed or
// reset it, or sent a TLS close_notify), the target is probed at once. A
// server that merely closes idle connections must not cause a probe storm,
// so probes triggered this way are rate limited per target: at most one
// per watch gap, which starts at the interval (at least 100 ms), doubles
// each time such a probe succeeds (the close was harmless) up to 8
// intervals, and falls back to the interval when one fails. A target thus
// costs at most one extra probe per interval, and far fewer against
// servers with short idle timeouts; a close that falls inside the gap is
// left to the regular probe. TCP check connections are closed with a
// reset, so that the checker piles up no TIME_WAIT sockets.
//
// An HTTP endpoint that closes every connection after its response (no
// keep-alive) leaves nothing idle to watch, and the checker holds nothing
// open to it: a bare connection that never carries a request is an error
// in such a server's log (or holds its only thread). Its failures are seen
// by the next probe, and a hard one is confirmed at once as always.
//
// # Damping
//
// Changes of the checked state between Up and Down are flaps. When a flap
// makes more than Damping.Flaps of them within Damping.Window, the target
// is held Down (Status.HeldUntil) until Damping.HoldDown after the latest
// flap; flaps during the hold extend it. When the hold ends the effective
// state is the checked state of that moment. Flaps 0 disables damping.
//
// # Events and notification
//
// Every change of a target's effective state, and every start and end of
// a hold-down, appends an Event (actor "check", "push" or "damping") to a
// log bounded by Options.EventLimit and Options.EventBytes (a reason and
// an actor are cut to MaxEventText, a pushed reason to
// model.MaxReasonLen without control characters), with sequence numbers
// increasing by one from 1, or from the last of the events an earlier run kept
// (RestoreEvents). An event whose Old and New are equal changed no state
// (a hold-down starting on a target already down); its reason says what
// happened. EventsAdded signals new events to the one that keeps them
// (the control plane writes them to the store in batches); adding an
// event never waits for it. OnChange is called, coalesced and from one
// goroutine, after each such change is visible in Statuses, with the keys
// of the targets the changes it reports were made to.
//
// # Clocks
//
// One clock, Options.Clock, stamps statuses and events and drives
// scheduling, push expiry and hold-down release; tests step a clock.Fake.
// Probes measure their round-trip time on the system's clock.
package health
