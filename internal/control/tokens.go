package control

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// CreateToken creates an API token and returns the token string, which is
// shown only now: the store keeps a hash of its secret. by, the token
// that asks, must hold every scope the new token gets (a *ScopeError
// otherwise).
func (s *Tokens) CreateToken(ctx context.Context, name string, scopes []string, by *auth.Principal) (string, auth.Token, error) {
	if err := checkTokenSpec(name, scopes); err != nil {
		return "", auth.Token{}, err
	}
	if err := checkGrant(by, scopes, "create a token with"); err != nil {
		return "", auth.Token{}, err
	}
	tok, rec, b, err := s.newToken(name, scopes)
	if err != nil {
		return "", auth.Token{}, err
	}
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		if err := tx.Put(schema.TokenKey(rec.ID), b); err != nil {
			return err
		}
		return tx.tokenChange(ctx, &rec, "token.create", principalName(by))
	})
	if err != nil {
		return "", auth.Token{}, err
	}
	if err := s.published(ctx, rev); err != nil {
		return "", auth.Token{}, err
	}
	s.log.Info("token created", "id", rec.ID, "name", name, "scopes", scopes, "by", by.Name)
	return tok, rec, nil
}

// checkGrant refuses a write on tokens that would give, or take away,
// scopes by does not hold.
func checkGrant(by *auth.Principal, scopes []string, action string) error {
	if by == nil {
		return &ScopeError{Token: "(none)", Missing: scopes, Action: action}
	}
	if missing := by.Missing(scopes); len(missing) > 0 {
		return &ScopeError{Token: by.Name, Missing: missing, Action: action}
	}
	return nil
}

// lastAdmin refuses a write that would leave the store without a token
// that can administer tokens ("*" or "tokens:admin") when it has one:
// removed are the ids the write deletes, added the scopes of the token it
// puts (nil for none). It reads every token in tx, so two writes that
// each remove one of the last two such tokens conflict in the store and
// the second one sees the first.
func lastAdmin(tx store.ReadTx, removed []string, added []string) error {
	toks, err := scanTokens(tx)
	if err != nil {
		return err
	}
	var had, kept bool
	for _, t := range toks {
		if !auth.AdministersTokens(t.Scopes) {
			continue
		}
		had = true
		if !slices.Contains(removed, t.ID) {
			kept = true
		}
	}
	if had && !kept && !auth.AdministersTokens(added) {
		return inUse("id", "this is the last token that can administer tokens (scope %q or %q): create another one with it first", auth.ScopeAll, auth.ScopeTokens)
	}
	return nil
}

// CreateFirstToken creates a token as CreateToken does, in the same
// transaction that finds the store holding no token at all; when the
// store holds one it creates nothing and reports false. Nodes that start
// together on one empty store thus make one admin token between them.
func (s *Tokens) CreateFirstToken(ctx context.Context, name string, scopes []string, actor string) (string, auth.Token, bool, error) {
	if err := checkTokenSpec(name, scopes); err != nil {
		return "", auth.Token{}, false, err
	}
	tok, rec, b, err := s.newToken(name, scopes)
	if err != nil {
		return "", auth.Token{}, false, err
	}
	var created bool
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		n, err := tx.Count(schema.PrefixTokens)
		if created = err == nil && n == 0; !created {
			return err
		}
		if err := tx.Put(schema.TokenKey(rec.ID), b); err != nil {
			return err
		}
		return tx.tokenChange(ctx, &rec, "token.create", actor)
	})
	if err != nil || !created {
		return "", auth.Token{}, false, err
	}
	if err := s.published(ctx, rev); err != nil {
		return "", auth.Token{}, false, err
	}
	s.log.Info("token created", "id", rec.ID, "name", name, "scopes", scopes, "by", actor)
	return tok, rec, true, nil
}

// checkTokenSpec checks a new token's name and scopes.
func checkTokenSpec(name string, scopes []string) error {
	known := strings.Join(auth.KnownScopes, ", ")
	if strings.TrimSpace(name) == "" {
		return model.Errorf("name", "the token name is required")
	}
	if len(scopes) == 0 {
		return model.Errorf("scopes", "give at least one scope (known: %s)", known)
	}
	for i, sc := range scopes {
		if !auth.ValidScope(sc) {
			return model.Errorf(fmt.Sprintf("scopes[%d]", i), "unknown scope %q (known: %s)", sc, known)
		}
	}
	return nil
}

// ReplaceToken deletes every token named name and creates a new one with
// the same name and the given scopes in the same transaction. by must hold
// every scope of the new token and of the tokens it replaces (a
// *ScopeError otherwise), and the store keeps a token that can administer
// tokens if it had one (an *InUseError otherwise).
func (s *Tokens) ReplaceToken(ctx context.Context, name string, scopes []string, by *auth.Principal) (string, auth.Token, error) {
	if err := checkTokenSpec(name, scopes); err != nil {
		return "", auth.Token{}, err
	}
	if err := checkGrant(by, scopes, "create a token with"); err != nil {
		return "", auth.Token{}, err
	}
	tok, rec, b, err := s.newToken(name, scopes)
	if err != nil {
		return "", auth.Token{}, err
	}
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		old, err := scanTokens(tx)
		if err != nil {
			return err
		}
		var removed []string
		for _, t := range old {
			if t.Name != name {
				continue
			}
			if err := checkGrant(by, t.Scopes, "replace a token with"); err != nil {
				return err
			}
			removed = append(removed, t.ID)
		}
		if err := lastAdmin(tx, removed, scopes); err != nil {
			return err
		}
		for _, id := range removed {
			if err := tx.Delete(schema.TokenKey(id)); err != nil {
				return err
			}
			if err := tx.change(schema.AuditTokenStream(id), "token.delete", "token "+id, "replaced by "+rec.ID, schema.TokenKey(id)); err != nil {
				return err
			}
		}
		if err := tx.Put(schema.TokenKey(rec.ID), b); err != nil {
			return err
		}
		return tx.tokenChange(ctx, &rec, "token.replace", principalName(by))
	})
	if err != nil {
		return "", auth.Token{}, err
	}
	if err := s.published(ctx, rev); err != nil {
		return "", auth.Token{}, err
	}
	s.log.Info("token replaced", "id", rec.ID, "name", name, "scopes", scopes, "by", by.Name)
	return tok, rec, nil
}

// newToken generates a token and its stored record.
func (s *Tokens) newToken(name string, scopes []string) (string, auth.Token, []byte, error) {
	tok, rec, err := auth.Generate()
	if err != nil {
		return "", auth.Token{}, nil, err
	}
	rec.Name, rec.Scopes, rec.Created = name, scopes, s.opts.Clock().UTC()
	b, err := schema.EncodeToken(&rec)
	return tok, rec, b, err
}

// Token returns one token's record.
func (s *Tokens) Token(ctx context.Context, id string) (auth.Token, error) {
	var t auth.Token
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		key := schema.TokenKey(id)
		b, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrTokenNotFound
		}
		d, err := schema.DecodeToken(key, b)
		if err != nil {
			return err
		}
		t = *d
		return nil
	})
	return t, err
}

// Tokens returns every token's record, sorted by name.
func (s *Tokens) Tokens(ctx context.Context) ([]auth.Token, error) {
	var out []auth.Token
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = scanTokens(tx)
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func scanTokens(tx store.ReadTx) ([]auth.Token, error) {
	var out []auth.Token
	err := tx.Scan(schema.PrefixTokens, "", func(key string, value []byte) error {
		t, err := schema.DecodeToken(key, value)
		if err != nil {
			return err
		}
		out = append(out, *t)
		return nil
	})
	return out, err
}

// DeleteToken deletes a token. by must hold every scope of the token it
// deletes (a *ScopeError otherwise), and the last token that can
// administer tokens is not deleted (an *InUseError): both are checked in
// the transaction that deletes. Like every write it returns once this
// node serves the change: the token no longer authenticates here.
func (s *Tokens) DeleteToken(ctx context.Context, id string, by *auth.Principal) error {
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		key := schema.TokenKey(id)
		b, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrTokenNotFound
		}
		t, err := schema.DecodeToken(key, b)
		if err != nil {
			return err
		}
		if err := checkGrant(by, t.Scopes, "delete a token with"); err != nil {
			return err
		}
		if err := lastAdmin(tx, []string{id}, nil); err != nil {
			return err
		}
		if err := tx.Delete(key); err != nil {
			return err
		}
		if err := tx.change(schema.AuditTokenStream(id), "token.delete", "token "+id, fmt.Sprintf("name %q", t.Name), key); err != nil {
			return err
		}
		return tx.commit(ctx, principalName(by))
	})
	if err != nil {
		return err
	}
	s.log.Info("token deleted", "id", id, "by", by.Name)
	return s.published(ctx, rev)
}

// Authenticate resolves a bearer token to a principal, or returns
// ErrTokenNotFound when it is unknown or its secret does not match. A
// token the publisher's table holds is resolved from it, without a store
// read (TokenFollower); any other is read from the store.
func (s *Tokens) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	id, secret, ok := auth.Parse(token)
	if !ok {
		return nil, ErrTokenNotFound
	}
	if s.table != nil {
		if p, known := s.table.Authenticate(token); known {
			if p == nil {
				return nil, ErrTokenNotFound
			}
			return p, nil
		}
	}
	t, err := s.Token(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.Verify(secret) {
		return nil, ErrTokenNotFound
	}
	return &auth.Principal{TokenID: t.ID, Name: t.Name, Scopes: t.Scopes}, nil
}
