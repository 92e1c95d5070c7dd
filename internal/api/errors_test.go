package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// TestStoreUnavailableIs503: a store that does not answer is a 503 that
// names it and says to retry, not a 500, even when its error also wraps
// a deadline.
func TestStoreUnavailableIs503(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("store/etcd: read: etcd at http://127.0.0.1:1 did not answer within 5s: %w", store.ErrUnavailable),
		fmt.Errorf("control: %w", fmt.Errorf("commit: %w", store.ErrUnavailable)),
		fmt.Errorf("%w, %w", context.DeadlineExceeded, store.ErrUnavailable),
	} {
		he := toHTTP(err)
		if he.status != http.StatusServiceUnavailable || !strings.HasPrefix(he.message, "the store is unreachable: ") || !strings.HasSuffix(he.message, "; retry") {
			t.Errorf("toHTTP(%v) = %d %q", err, he.status, he.message)
		}
	}
}
