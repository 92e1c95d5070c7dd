package publish

import (
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Tokens returns the table of the API's stored tokens (hashes and
// principals) as of the revision the publisher serves: a token a
// revision creates or deletes is in or out of it before WaitFor returns
// for that revision. control.Tokens authenticates from it.
func (p *Publisher) Tokens() *auth.Table { return &p.tokens }

// loadTokens reads every token into the table. A record that cannot be
// read is logged and left out: a request with it is looked up in the
// store, which says what is wrong with it.
func (p *Publisher) loadTokens(tx store.ReadTx) error {
	var toks []auth.Token
	err := tx.Scan(schema.PrefixTokens, "", func(key string, value []byte) error {
		t, err := schema.DecodeToken(key, value)
		if err != nil {
			schema.Skip(p.log, key, err)
			return nil
		}
		toks = append(toks, *t)
		return nil
	})
	if err != nil {
		return err
	}
	p.tokens.Reset(toks)
	return nil
}

// tokenEvent records one store event about a token in c (nil: deleted,
// or a record that cannot be read, which is logged and left out); it
// reports whether the key was one.
func (p *Publisher) tokenEvent(ev store.Event, c map[string]*auth.Token) bool {
	id, ok := strings.CutPrefix(ev.Key, schema.PrefixTokens)
	if !ok {
		return false
	}
	if ev.Deleted {
		c[id] = nil
		return true
	}
	t, err := schema.DecodeToken(ev.Key, ev.Value)
	if err != nil {
		schema.Skip(p.log, ev.Key, err)
		c[id] = nil
		return true
	}
	c[id] = t
	return true
}

// applyTokens applies the token changes of a run of revisions.
func (p *Publisher) applyTokens(c map[string]*auth.Token) {
	if len(c) == 0 {
		return
	}
	var put []auth.Token
	var deleted []string
	for id, t := range c {
		if t == nil {
			deleted = append(deleted, id)
		} else {
			put = append(put, *t)
		}
	}
	p.tokens.Apply(put, deleted)
}
