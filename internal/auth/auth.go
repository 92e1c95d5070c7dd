// Package auth holds API tokens and what they allow: the token format, the
// hashing of secrets at rest, and scope checks.
//
// A token reads "stratus_<id>_<secret>". The id finds the token's record in
// the store; only a SHA-256 hash of the secret is stored, compared in
// constant time. Each token carries scopes: "*" (everything, the admin
// token), or "<resource>:<action>" pairs such as "zones:read".
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Scopes the API checks.
const (
	ScopeAll           = "*"
	ScopeZonesRead     = "zones:read"
	ScopeZonesWrite    = "zones:write"
	ScopeServicesRead  = "services:read"
	ScopeServicesWrite = "services:write"
	// ScopeEndpointsWrite lets a function register, renew and deregister
	// endpoints and push their health, and nothing else.
	ScopeEndpointsWrite = "endpoints:write"
	ScopeTokens         = "tokens:admin"
	// ScopeTSIG manages TSIG keys, which sign zone transfers and dynamic
	// updates: as powerful as zones:write.
	ScopeTSIG = "tsig:admin"
	// ScopeAuditRead lists and verifies the audit log.
	ScopeAuditRead = "audit:read"
	// ScopeMetricsRead reads the Prometheus metrics where
	// metrics.require_token asks for a token.
	ScopeMetricsRead = "metrics:read"
	// ScopeWebhooksRead and ScopeWebhooksWrite read and manage the
	// webhooks alerts are delivered to.
	ScopeWebhooksRead  = "webhooks:read"
	ScopeWebhooksWrite = "webhooks:write"
)

// KnownScopes lists every scope a token may be given.
var KnownScopes = []string{ScopeAll, ScopeZonesRead, ScopeZonesWrite, ScopeServicesRead, ScopeServicesWrite, ScopeEndpointsWrite, ScopeTokens, ScopeTSIG, ScopeAuditRead, ScopeMetricsRead, ScopeWebhooksRead, ScopeWebhooksWrite}

// Token is a token's stored record. The secret itself is never stored.
type Token struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Hash   string   `json:"hash"` // hex SHA-256 of the secret
	Scopes []string `json:"scopes"`
	// Bindings limit the token to named zones, services and pools.
	Bindings
	Created time.Time `json:"created"`
	// Expires, when set, is when the token stops authenticating.
	Expires time.Time `json:"expires,omitzero"`
	// LastUsed is when the token last authenticated, as of the last
	// flush of the nodes' in-memory record of it (Tokens.FlushLastUse in
	// internal/control): up to a minute behind.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Principal returns the principal the token stands for.
func (t *Token) Principal() *Principal {
	return &Principal{TokenID: t.ID, Name: t.Name, Scopes: t.Scopes, Bindings: t.Bindings, Expires: t.Expires}
}

// Principal is who an authenticated request acts as.
type Principal struct {
	TokenID string
	Name    string
	Scopes  []string
	// Bindings limit the objects it acts on (Zone, Service, Pool).
	Bindings Bindings
	// Expires, when set, is when its token stops authenticating.
	Expires time.Time
}

// Allows reports whether the principal holds scope. "<x>:write" implies
// "<x>:read", and "services:write" implies "endpoints:write".
func (p *Principal) Allows(scope string) bool {
	if slices.Contains(p.Scopes, ScopeAll) || slices.Contains(p.Scopes, scope) {
		return true
	}
	if res, ok := strings.CutSuffix(scope, ":read"); ok {
		return slices.Contains(p.Scopes, res+":write")
	}
	if scope == ScopeEndpointsWrite {
		return slices.Contains(p.Scopes, ScopeServicesWrite)
	}
	return false
}

// Missing returns the scopes in scopes that the principal does not hold
// (as Allows decides), each once, in their order: what a token it
// creates or replaces would hold beyond its own. A token may only grant
// what it holds; "*" holds everything.
func (p *Principal) Missing(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if !p.Allows(sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// AdministersTokens reports whether a token with these scopes can
// create and delete tokens: it holds "*" or "tokens:admin".
func AdministersTokens(scopes []string) bool {
	return slices.Contains(scopes, ScopeAll) || slices.Contains(scopes, ScopeTokens)
}

// Local is the principal of the node's own operator (the one with the
// node's data directory and store, such as "stratus serve" issuing the
// admin token): it holds every scope.
func Local(name string) *Principal {
	return &Principal{Name: name, Scopes: []string{ScopeAll}}
}

const tokenPrefix = "stratus_"

// Generate returns a new token string and its record (without Name,
// Scopes and Created).
func Generate() (secretToken string, rec Token, err error) {
	idb := make([]byte, 6)
	sb := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", rec, err
	}
	if _, err := rand.Read(sb); err != nil {
		return "", rec, err
	}
	id := hex.EncodeToString(idb)
	secret := base64.RawURLEncoding.EncodeToString(sb)
	return tokenPrefix + id + "_" + secret, Token{ID: id, Hash: hashSecret(secret)}, nil
}

// Parse splits a token string into its id and secret.
func Parse(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 12 || secret == "" {
		return "", "", false
	}
	return id, secret, true
}

// Verify reports whether secret matches the record's hash.
func (t *Token) Verify(secret string) bool {
	h := hashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(h), []byte(t.Hash)) == 1
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidScope reports whether s is a scope a token may hold.
func ValidScope(s string) bool { return slices.Contains(KnownScopes, s) }
