// Package cluster owns a node's membership of its Stratus cluster: its
// name, its session on the store (store.Shared on etcd, a local session
// alone in its cluster on bbolt), a new session after one ends (with
// backoff), the work attached to each session (the member record, health
// votes), and the work that must run on one node at a time: the node
// campaigns in one election and, while it leads, runs the leader's tasks
// with the context of its term (store.Term.Fence), so that their writes
// are refused by the store once the term has ended. A term's tasks have
// all stopped before the node campaigns again.
//
// Member records are ephemeral keys under MembersPrefix, one per live
// session: what `GET /v1/cluster` and `stratus cluster status` show.
package cluster
