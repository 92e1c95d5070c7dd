// Package healthview merges the health verdicts of every node of a
// cluster into the one view steering answers from.
//
// Each node probes every endpoint itself (health.Checker). With one node
// that is the whole story, and a View on one node passes its checker's
// statuses through unchanged: same states, same times, same events. With
// several nodes on one etcd store, each node publishes its verdicts as
// ephemeral keys of its session (VotesPrefix + node + "/" + target key),
// gathered for Debounce (5 ms) and written together in one Session.Apply
// (a failed batch is written again whole), and follows every
// other node's with WatchEphemeral. A node whose session ends (it died, or
// was cut off from etcd for longer than the session's TTL) has its votes
// removed by the store, and they stop counting everywhere. A vote counts
// only when the live session of the node its key names holds it
// (store.Event.Owner): a key written without a session (a plain etcd put,
// which never expires) or by one node's session under another's name is
// left out, and logged.
//
// # The rule
//
// For a probed target, the live nodes are this node and every node whose
// session is live and that has published a vote on any target, less the
// isolated ones (below). The target is down when a strict majority of the
// live nodes see it down, and up otherwise: 2 of 3, 3 of 5, both of 2. A
// live node without a verdict on the target (a new endpoint, checks in
// another phase) holds back: it counts as not down until it votes, so one
// node alone never takes an endpoint out ("only 1 of 3 nodes see it down
// (c)"). A tie is up: a false "down" takes a working endpoint out of every
// node's answers, while a false "up" keeps at most what one node alone
// would have kept. A node alone decides by its own verdict, as it always
// has. With no verdict from any live node the target is unknown, and the
// service's cold-start choice applies.
//
// A push target is not a vantage point: its state is what the endpoint
// reported last. A report is taken by the node the function sent it to
// and published as that node's vote; every node takes the vote with the
// latest report time (ties broken by node name). When the node that took
// it dies, its vote goes with its session: the others fall back to the
// latest report they hold, or to unknown, until the function's next push
// (which it sends within its push TTL) reaches any node.
//
// # Isolation
//
// A node whose own network fails sees every endpoint fail. It is isolated
// when it has verdicts on at least MinIsolationTargets probed targets, sees
// at least 90% of them down, and on more than half of those the other
// voting nodes see the target up (a strict majority of them). Then its
// votes are ignored by every node, itself included (each node applies the
// same rule to the same votes), and the node logs an event (key
// "node:<name>", actor "quorum"): "this node sees every endpoint down ...;
// its votes are ignored". It is no longer isolated when it sees fewer than
// half of its targets down, or when the others no longer contradict it
// (the endpoints really are down), and logs that too. Two nodes out of
// three that see everything down are a majority: they are believed.
//
// # Cut off from the store
//
// While a node has no session (etcd unreachable), it keeps the other
// nodes' last votes for the session ttl (Options.SessionTTL): its view
// stays as it was (static stability), and its own new verdicts go into
// the merge as one vote among those, so they change an answer only where
// they would have with the cluster present; the isolation rule still
// applies to them. It cannot tell whether the others still live, and
// after the ttl their keys would have vanished had they died: then it
// drops their votes and decides by its own verdicts alone, as a node
// alone does, and logs an event (key "node:<name>", actor "quorum") saying
// so. So a node cut off fails over from an endpoint it sees dead within
// the ttl, also when etcd is down for every node. When a new session
// starts, the node publishes all its verdicts again and takes the others'
// from its first batch (logging that it counts them again).
package healthview
