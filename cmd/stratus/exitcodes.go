package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/client"
)

// Exit codes scripts can rely on.
const (
	exitOK          = 0
	exitError       = 1 // anything not listed below
	exitInvalid     = 2 // bad flags, arguments or input (HTTP 400, zone file errors)
	exitNotFound    = 3 // no such zone, RRset or token (HTTP 404)
	exitConflict    = 4 // already exists, changed meanwhile, or in use (HTTP 409, 412)
	exitAuth        = 5 // missing, invalid or insufficient token (HTTP 401, 403)
	exitUnreachable = 6 // the API server could not be reached
	exitDrillFailed = 7 // a drill ran and an expectation or SLO did not hold
	exitAuditBroken = 8 // audit verify found the audit log altered
)

const exitCodeHelp = `Exit codes:
  0  success
  1  error not listed below (server error, I/O)
  2  invalid flags, arguments or input
  3  not found (zone, RRset or token)
  4  conflict: already exists, changed since read (If-Match), or still in use
  5  authentication or permission failure
  6  the API server could not be reached
  7  a drill ran and an expectation or SLO did not hold
  8  audit verify found the audit log altered (entries of a stream changed, removed, added or reordered)`

// usageError marks errors in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// authError marks failures to find credentials.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	var ae *authError
	var ce *client.ConnectionError
	var ve *model.Error
	var cfe *conflictError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ve):
		return exitInvalid
	case errors.As(err, &ae):
		return exitAuth
	case errors.As(err, &cfe):
		return exitConflict
	case errors.As(err, &ce):
		return exitUnreachable
	case errors.Is(err, context.Canceled):
		return exitError
	case errors.Is(err, errDrillFailed):
		return exitDrillFailed
	case errors.Is(err, errAuditBroken):
		return exitAuditBroken
	}
	switch client.StatusOf(err) {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return exitInvalid
	case http.StatusNotFound:
		return exitNotFound
	case http.StatusConflict, http.StatusPreconditionFailed:
		return exitConflict
	case http.StatusUnauthorized, http.StatusForbidden:
		return exitAuth
	}
	return exitError
}

// printError writes err for a human: one line, naming the field at fault.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "error: %s\n", termEscape(err.Error(), true))
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		fmt.Fprintln(w, "hint: pass --token, set STRATUS_TOKEN, or point --data-dir at the server's data directory (it holds admin.token)")
	}
}
