package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// httpError is an error with its HTTP rendering.
type httpError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *httpError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *httpError {
	return &httpError{status: http.StatusBadRequest, code: apiv1.CodeInvalid, message: fmt.Sprintf(format, args...), field: field}
}

// toHTTP maps an error from any layer to its response.
func toHTTP(err error) *httpError {
	var he *httpError
	var ve *model.Error
	var pe *control.PreconditionError
	var ue *control.InUseError
	var se *control.ScopeError
	var be *auth.BindingError
	var xe *auth.ExpiredError
	var oe *auth.OutlivesError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ve):
		return &httpError{status: http.StatusBadRequest, code: apiv1.CodeInvalid, message: ve.Message, field: ve.Field}
	case errors.As(err, &se):
		return &httpError{status: http.StatusForbidden, code: apiv1.CodePermissionDenied, message: se.Error()}
	case errors.As(err, &be):
		return &httpError{status: http.StatusForbidden, code: apiv1.CodePermissionDenied, message: be.Error()}
	case errors.As(err, &oe):
		return &httpError{status: http.StatusForbidden, code: apiv1.CodePermissionDenied, message: oe.Error()}
	case errors.As(err, &xe):
		return &httpError{status: http.StatusUnauthorized, code: apiv1.CodeUnauthenticated, message: xe.Error()}
	case errors.As(err, &ue):
		return &httpError{status: http.StatusConflict, code: apiv1.CodeConflict, message: ue.Message, field: ue.Field}
	case errors.As(err, &pe):
		return &httpError{status: http.StatusPreconditionFailed, code: apiv1.CodeFailedPrecondition, message: pe.Error()}
	case errors.Is(err, control.ErrZoneNotFound), errors.Is(err, control.ErrRRsetNotFound), errors.Is(err, control.ErrTokenNotFound),
		errors.Is(err, control.ErrServiceNotFound), errors.Is(err, control.ErrEndpointNotFound), errors.Is(err, control.ErrPoolNotFound),
		errors.Is(err, control.ErrTSIGKeyNotFound), errors.Is(err, control.ErrDrillRunNotFound), errors.Is(err, control.ErrWebhookNotFound):
		return &httpError{status: http.StatusNotFound, code: apiv1.CodeNotFound, message: err.Error()}
	case errors.Is(err, control.ErrZoneExists), errors.Is(err, control.ErrServiceExists), errors.Is(err, control.ErrTSIGKeyExists), errors.Is(err, control.ErrWebhookExists):
		return &httpError{status: http.StatusConflict, code: apiv1.CodeAlreadyExists, message: err.Error()}
	case errors.Is(err, control.ErrNotServed):
		return &httpError{status: http.StatusServiceUnavailable, code: apiv1.CodeUnavailable, message: err.Error()}
	case errors.Is(err, store.ErrUnavailable):
		return &httpError{status: http.StatusServiceUnavailable, code: apiv1.CodeUnavailable, message: "the store is unreachable: " + err.Error() + "; retry"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{status: http.StatusServiceUnavailable, code: apiv1.CodeUnavailable, message: "request cancelled or timed out"}
	}
	return &httpError{status: http.StatusInternalServerError, code: apiv1.CodeInternal, message: "internal error"}
}

// writeError renders err. Internal errors are logged with their detail and
// answered without it.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	he := toHTTP(err)
	if he.status == http.StatusInternalServerError {
		h.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stratus"`)
	}
	body := apiv1.ErrorResponse{Error: apiv1.Error{Status: he.status, Code: he.code, Message: he.message, Field: he.field}}
	writeJSON(w, he.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		slog.Error("api: encoding response", "err", err)
		http.Error(w, `{"error":{"status":500,"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// parseLimit reads a list's limit query parameter: 1 to most.
func parseLimit(v string, most int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, invalid("limit", "want a number from 1 to %d, got %q", most, v)
	}
	return n, nil
}
