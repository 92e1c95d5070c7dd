package apiv1

import "time"

// Status answers GET /v1/status: the state of the node that answered.
type Status struct {
	// Degraded is set while the node runs on its last snapshot because
	// the store does not answer.
	Degraded bool        `json:"degraded"`
	Store    StoreStatus `json:"store"`
}

// StoreStatus is the reach of the node's store.
type StoreStatus struct {
	Reachable bool `json:"reachable"`
	// Since is when the store last became unreachable, or reachable
	// again (absent when it never failed).
	Since *time.Time `json:"since,omitempty"`
	// Error is the last failure while unreachable.
	Error string `json:"error,omitempty"`
	// Revision is the store revision of the snapshot DNS answers from.
	Revision int64 `json:"revision"`
}
