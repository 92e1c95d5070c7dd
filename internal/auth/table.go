package auth

import (
	"sync"
	"time"
)

// Table holds the stored tokens as a node has last seen them: by token
// id, the hash of each secret and the principal it stands for, never a
// secret. The node's snapshot publisher keeps it current from the store's
// watch (publish.Publisher.Tokens), so that a request's token is checked
// without a store read; a token it does not hold (created a moment ago
// on another node) is looked up in the store instead.
//
// A Table is safe for concurrent use; its zero value is empty.
type Table struct {
	mu   sync.RWMutex
	byID map[string]tableEntry
}

type tableEntry struct {
	hash string
	p    *Principal
}

func entryOf(t *Token) tableEntry {
	return tableEntry{hash: t.Hash, p: t.Principal()}
}

// Reset replaces every token in the table with toks.
func (t *Table) Reset(toks []Token) {
	m := make(map[string]tableEntry, len(toks))
	for i := range toks {
		m[toks[i].ID] = entryOf(&toks[i])
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID = m
}

// Apply puts the tokens in put and removes the ids in deleted.
func (t *Table) Apply(put []Token, deleted []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = make(map[string]tableEntry, len(put))
	}
	for i := range put {
		t.byID[put[i].ID] = entryOf(&put[i])
	}
	for _, id := range deleted {
		delete(t.byID, id)
	}
}

// Len returns the number of tokens in the table.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}

// Authenticate resolves a bearer token from the table. known is false
// when the token is malformed or the table does not hold its id;
// otherwise p is the token's principal, or nil when the secret does not
// match the stored hash.
func (t *Table) Authenticate(token string) (p *Principal, known bool) {
	id, secret, ok := Parse(token)
	if !ok {
		return nil, false
	}
	t.mu.RLock()
	e, ok := t.byID[id]
	t.mu.RUnlock()
	if !ok {
		return nil, false
	}
	rec := Token{Hash: e.hash}
	if !rec.Verify(secret) {
		return nil, true
	}
	return e.p, true
}

// Check resolves a bearer token from the table as Authenticate does, and
// refuses one whose expiry has passed at now with an *ExpiredError: the
// table holds each token's expiry, so an expired token is refused
// without a store read.
func (t *Table) Check(token string, now time.Time) (p *Principal, known bool, err error) {
	p, known = t.Authenticate(token)
	if p != nil {
		err = p.Expired(now)
	}
	return p, known, err
}
