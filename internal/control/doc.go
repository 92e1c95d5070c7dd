// Package control is Stratus's control plane: the one write path every
// change takes and the reads the API serves. It is one type per resource
// group (Zones, Secondaries, SteeredAnswers, Services, Endpoints, Tokens,
// TSIGKeys, DrillRuns), all on one store and publisher; New wires them
// together as a Plane.
//
// A change (from the API, the CLI, a zone import) is one store transaction
// that validates the result against the zone as it is, writes the RRsets,
// advances the SOA serial under the zone's serial policy and appends a
// journal entry (old serial, new serial, records removed and added). The
// transaction is synced to disk before the caller hears of success, and the
// caller waits until the publisher (internal/publish, through the
// Publisher interface) has built and published the snapshot containing
// the change, so the next DNS query sees it (read-your-writes).
//
// The layout of keys in the store and the encoding of every stored value
// belong to internal/schema; this package reads and writes them only
// through its key builders and codecs, and follows its policy for records
// that cannot be read: inside a write transaction, the error is returned
// and nothing is written. The listings it owns that keep things served —
// the lease reaper's (Endpoints.ReapLapsed), the zones with steered
// answers (SteeredAnswers.SteeredZones), the secondary zones the refresh
// loops follow (Secondaries.SecondaryZones) and the health events kept at
// start (OpenEventLog) — leave such a record out and log it instead.
package control
