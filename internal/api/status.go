package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// status answers GET /v1/status from Options.Status. It needs no store
// read, so it answers while the store is away.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	if h.opts.Status == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server does not report its status")
	}
	writeJSON(w, http.StatusOK, h.opts.Status())
	return nil
}
