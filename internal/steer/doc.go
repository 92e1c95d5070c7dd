// Package steer chooses the answer of a steered name for each query: a
// chain of small filters over the service's candidate endpoints (health,
// jurisdiction, priority, geo, latency, weight, shuffle, first_n), each a
// pure function, that the policies (failover, weighted, multivalue, geo,
// latency) expand into.
//
// The same chain serves two callers. On the query path (Snapshot.Steer)
// it runs over a per-worker scratch slice of candidate indexes and builds
// the answer in a per-worker scratch RRset: no locks, no allocation. For
// operators (Explain) it runs with an explanation attached and records
// which filter removed which endpoint and why.
//
// What the filters need is compiled ahead of time (Compile): every
// endpoint's record data, its effective health (checks, overrides, leases,
// cold start, damping), every pool's state. A Snapshot holds the compiled
// services of one moment; the controller (internal/steerctl) compiles a
// new one whenever configuration, endpoints or health change and swaps it
// in with one atomic store.
package steer
