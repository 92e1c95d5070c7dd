package apiv1

import "time"

// Cluster answers GET /v1/cluster: the nodes sharing the store, as their
// member records show them.
type Cluster struct {
	// Node is the node that answered.
	Node string `json:"node"`
	// Leader is the node that runs the work that must run once (lease
	// reaping, steered answers for secondaries and NOTIFY, secondary
	// zone refreshes, scheduled drills); empty while none leads.
	Leader string `json:"leader"`
	// Revision is the store's head revision.
	Revision int64 `json:"revision"`
	// Members are the nodes with a live session, by name.
	Members []ClusterMember `json:"members"`
}

// ClusterMember is one node of the cluster.
type ClusterMember struct {
	Node    string    `json:"node"`
	API     string    `json:"api"`
	DNS     []string  `json:"dns"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Leader is the node's own claim to lead, from its record, which is
	// rewritten at most once a second: two records may briefly both say
	// true. Cluster.Leader is the authority.
	Leader bool `json:"leader"`
	// Revision is the store revision of the snapshot the node's DNS
	// answers from; Lag is how far it is behind the head revision.
	Revision int64 `json:"revision"`
	Lag      int64 `json:"lag"`
	// Health counts the endpoints by the node's own checks.
	Health HealthCounts `json:"health"`
	// Seen is when the node last wrote its record (it writes it when
	// what it says changes, at most once a second): it does not move
	// while nothing changes.
	Seen time.Time `json:"seen"`
}

// HealthCounts counts checked endpoints by state.
type HealthCounts struct {
	Up      int `json:"up"`
	Down    int `json:"down"`
	Unknown int `json:"unknown"`
}
