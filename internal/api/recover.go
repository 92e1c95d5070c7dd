package api

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// recoverPanic, deferred around a request, turns a panic of its handler
// into a 500 naming the request id (the log line with the stack carries
// the same id), counted in stratus_panics_recovered_total{component="api"}.
// A handler that had begun its answer cannot be given another: its
// connection is cut instead (http.ErrAbortHandler), and the next request
// is served as usual.
func (h *Handler) recoverPanic(w *answerWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { // net/http's own way to cut a response
		panic(v)
	}
	telemetry.CountPanic("api")
	h.log.ErrorContext(r.Context(), "panic recovered", "component", "api", "method", r.Method, "path", r.URL.Path,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.begun {
		panic(http.ErrAbortHandler)
	}
	id := w.Header().Get(RequestIDHeader)
	h.writeError(w, r, errorf(http.StatusInternalServerError, apiv1.CodeInternal, "internal error (request id %s); the server's log has the details", id))
}
