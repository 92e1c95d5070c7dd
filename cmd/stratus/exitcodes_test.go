package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
)

// TestExitCodes maps every kind of error to the exit code the README's
// table promises.
func TestExitCodes(t *testing.T) {
	api := func(status int, code string) error {
		return fmt.Errorf("deleting: %w", &client.APIError{Status: status, Code: code, Message: "m"})
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"usage", usagef("bad"), exitInvalid},
		{"local validation", model.Errorf("name", "bad"), exitInvalid},
		{"400", api(400, apiv1.CodeInvalid), exitInvalid},
		{"413", api(413, apiv1.CodeTooLarge), exitInvalid},
		{"415", api(415, apiv1.CodeUnsupportedMedia), exitInvalid},
		{"404", api(404, apiv1.CodeNotFound), exitNotFound},
		{"409 exists", api(409, apiv1.CodeAlreadyExists), exitConflict},
		{"409 in use", api(409, apiv1.CodeConflict), exitConflict},
		{"412", api(412, apiv1.CodeFailedPrecondition), exitConflict},
		{"401", api(401, apiv1.CodeUnauthenticated), exitAuth},
		{"403", api(403, apiv1.CodePermissionDenied), exitAuth},
		{"no token", &authError{"no token"}, exitAuth},
		{"unreachable", &client.ConnectionError{Server: "http://127.0.0.1:1", Err: errors.New("refused")}, exitUnreachable},
		{"500", api(500, apiv1.CodeInternal), exitError},
		{"503", api(503, apiv1.CodeUnavailable), exitError},
		{"cancelled", context.Canceled, exitError},
		{"drill failed", errDrillFailed, exitDrillFailed},
		{"audit broken", fmt.Errorf("verify: %w", errAuditBroken), exitAuditBroken},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
