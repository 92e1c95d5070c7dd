package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// cluster answers GET /v1/cluster from Options.Cluster.
func (h *Handler) cluster(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	if h.opts.Cluster == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server does not report its cluster")
	}
	c, err := h.opts.Cluster(r.Context())
	if err != nil {
		return err
	}
	if c.Members == nil {
		c.Members = []apiv1.ClusterMember{}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
