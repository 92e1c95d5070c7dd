package api

import (
	"crypto/sha256"
	"net/http"
	"sync"

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

// knownTokens remembers the principals of tokens verified lately, by a
// hash of the token, for when the store cannot be asked.
type knownTokens struct {
	mu sync.Mutex
	m  map[[32]byte]*auth.Principal
}

// maxKnownTokens bounds knownTokens; past it the map starts over.
const maxKnownTokens = 1024

func (k *knownTokens) put(tok string, p *auth.Principal) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= maxKnownTokens {
		k.m = map[[32]byte]*auth.Principal{}
	}
	k.m[sha256.Sum256([]byte(tok))] = p
}

func (k *knownTokens) get(tok string) (*auth.Principal, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, ok := k.m[sha256.Sum256([]byte(tok))]
	return p, ok
}

func (k *knownTokens) forget(tok string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, sha256.Sum256([]byte(tok)))
}
