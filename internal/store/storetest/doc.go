// Package storetest is the conformance suite for store.Store engines.
//
// Every engine (store/bolt, and any clustered engine added later) must pass
// Run from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{
//			Open: func(t *testing.T, dir string, history int) store.Store {
//				s, err := myengine.Open(dir, history)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			},
//		})
//	}
//
// The suite checks the contract documented in package store: reads and
// writes, one revision per committed transaction, atomicity, snapshot
// reads, Scan ordering, Watch ordering and completeness under concurrent
// writers, compaction, copying of values, durability across reopen and
// behaviour after Close. Callers above the store rely on exactly these
// properties, so an engine that fails any subtest is not a drop-in
// replacement.
//
// RunSessions is the suite for store.Shared and its sessions (store/etcd,
// store/local): ephemeral keys seen by every session and gone with
// their own, WatchEphemeral, the order of Campaigns, Leader, fenced
// Updates refused once the term ended (nothing written, fn not looped),
// duplicate node names and ended sessions.
package storetest
