// Package control is Stratus's control plane: the one write path every
// change takes, the reads the API serves, and the publisher that turns
// committed changes into the zone snapshots the DNS query path answers from.
// It is one type per resource group (Zones, Secondaries, SteeredAnswers,
// Services, Endpoints, Tokens, TSIGKeys, DrillRuns), all on one store and
// publisher; New wires them together as a Plane.
//
// A change (from the API, the CLI, a zone import) is one store transaction
// that validates the result against the zone as it is, writes the RRsets,
// advances the SOA serial under the zone's serial policy and appends a
// journal entry (old serial, new serial, records removed and added). The
// transaction is synced to disk before the caller hears of success, and the
// caller waits until the publisher has built and published the snapshot
// containing the change, so the next DNS query sees it (read-your-writes).
//
// The publisher follows the store with Watch from the revision it loaded,
// so it applies changes made by this node and, with a clustered store
// engine, by any other node the same way.
//
// The layout of keys in the store is private to this package (keys.go).
package control
