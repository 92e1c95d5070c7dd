package control

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// TokenSpec is what a new token is given: its name and scopes, the
// objects it is bound to (none: every object its scopes reach) and when
// it expires (zero: never).
type TokenSpec struct {
	Name     string
	Scopes   []string
	Bindings auth.Bindings
	Expires  time.Time
}

// MaxTokenBindings bounds the names of each binding kind a token holds.
const MaxTokenBindings = 64

// CreateToken creates an unbound API token that does not expire
// (IssueToken).
func (s *Tokens) CreateToken(ctx context.Context, name string, scopes []string, by *auth.Principal) (string, auth.Token, error) {
	return s.IssueToken(ctx, TokenSpec{Name: name, Scopes: scopes}, by)
}

// IssueToken creates an API token and returns the token string, which is
// shown only now: the store keeps a hash of its secret. by, the token
// that asks, must hold every scope the new token gets (a *ScopeError
// otherwise), its bindings must be within by's (an *auth.BindingError
// otherwise), and when by expires it must expire no later (an
// *auth.OutlivesError otherwise).
func (s *Tokens) IssueToken(ctx context.Context, spec TokenSpec, by *auth.Principal) (string, auth.Token, error) {
	spec, err := s.checkTokenSpec(spec)
	if err != nil {
		return "", auth.Token{}, err
	}
	if err := checkIssue(by, spec); err != nil {
		return "", auth.Token{}, err
	}
	tok, rec, b, err := s.newToken(spec)
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
	s.log.Info("token created", "id", rec.ID, "name", spec.Name, "scopes", spec.Scopes, "bindings", spec.Bindings.String(), "expires", spec.Expires, "by", by.Name)
	return tok, rec, nil
}

// checkGrant refuses a write on tokens that would give, or take away,
// scopes by does not hold, or a token bound beyond by's bindings.
func checkGrant(by *auth.Principal, scopes []string, b auth.Bindings, action string) error {
	if by == nil {
		return &ScopeError{Token: "(none)", Missing: scopes, Action: action}
	}
	if missing := by.Missing(scopes); len(missing) > 0 {
		return &ScopeError{Token: by.Name, Missing: missing, Action: action}
	}
	return by.Exceeds(b)
}

// checkIssue refuses a new token (created, or replacing others) that by
// may not grant (checkGrant), or that would outlive by: when by expires,
// the new token must expire no later (an *auth.OutlivesError otherwise).
func checkIssue(by *auth.Principal, spec TokenSpec) error {
	if err := checkGrant(by, spec.Scopes, spec.Bindings, "create a token with"); err != nil {
		return err
	}
	return by.Outlives(spec.Expires)
}

// lastAdmin refuses a write that would leave the store without a token
// that can administer every token when it has one: an unbound token with
// "*" or "tokens:admin" that has not expired at now (a bound one can
// neither create nor delete an unbound one). When the store holds such a
// token that never expires, the write must keep one that never expires:
// one that expires would leave no token administering tokens once it
// has. removed are the ids the write deletes, added the scopes of the
// unbound token that never expires it puts (nil for none). It reads
// every token in tx, so two writes that each remove one of the last two
// such tokens conflict in the store and the second one sees the first.
func lastAdmin(tx store.ReadTx, now time.Time, removed []string, added []string) error {
	toks, err := scanTokens(tx)
	if err != nil {
		return err
	}
	var had, kept, hadPermanent, keptPermanent bool
	for _, t := range toks {
		if !auth.AdministersTokens(t.Scopes) || !t.Bindings.Empty() || (!t.Expires.IsZero() && !now.Before(t.Expires)) {
			continue
		}
		permanent := t.Expires.IsZero()
		had = true
		hadPermanent = hadPermanent || permanent
		if !slices.Contains(removed, t.ID) {
			kept = true
			keptPermanent = keptPermanent || permanent
		}
	}
	if auth.AdministersTokens(added) {
		return nil
	}
	if had && !kept {
		return inUse("id", "this is the last token that can administer tokens (scope %q or %q, unbound, not expired): create another one with it first", auth.ScopeAll, auth.ScopeTokens)
	}
	if hadPermanent && !keptPermanent {
		return inUse("id", "this is the last token that can administer tokens and never expires (scope %q or %q, unbound, no expiry): tokens that expire do not stand in for it; create another one without an expiry first", auth.ScopeAll, auth.ScopeTokens)
	}
	return nil
}

// CreateFirstToken creates a token as CreateToken does, in the same
// transaction that finds the store holding no token at all; when the
// store holds one it creates nothing and reports false. Nodes that start
// together on one empty store thus make one admin token between them.
func (s *Tokens) CreateFirstToken(ctx context.Context, name string, scopes []string, actor string) (string, auth.Token, bool, error) {
	spec, err := s.checkTokenSpec(TokenSpec{Name: name, Scopes: scopes})
	if err != nil {
		return "", auth.Token{}, false, err
	}
	tok, rec, b, err := s.newToken(spec)
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

// checkTokenSpec checks a new token's name, scopes, bindings and expiry,
// and returns it with its bindings canonical (names parsed, each once).
func (s *Tokens) checkTokenSpec(spec TokenSpec) (TokenSpec, error) {
	known := strings.Join(auth.KnownScopes, ", ")
	if strings.TrimSpace(spec.Name) == "" {
		return spec, model.Errorf("name", "the token name is required")
	}
	if len(spec.Scopes) == 0 {
		return spec, model.Errorf("scopes", "give at least one scope (known: %s)", known)
	}
	for i, sc := range spec.Scopes {
		if !auth.ValidScope(sc) {
			return spec, model.Errorf(fmt.Sprintf("scopes[%d]", i), "unknown scope %q (known: %s)", sc, known)
		}
	}
	var err error
	b := spec.Bindings
	if b.Zones, err = bindingNames("zones", b.Zones, true); err != nil {
		return spec, err
	}
	if b.Services, err = bindingNames("services", b.Services, true); err != nil {
		return spec, err
	}
	if b.Pools, err = bindingNames("pools", b.Pools, false); err != nil {
		return spec, err
	}
	spec.Bindings = b
	if !spec.Expires.IsZero() {
		now := s.opts.Clock().UTC()
		if !spec.Expires.After(now) {
			return spec, model.Errorf("expires", "%s is not in the future (now %s)", spec.Expires.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		spec.Expires = spec.Expires.UTC()
	}
	return spec, nil
}

// bindingNames checks one kind of binding: domain names (zones,
// services), made canonical, or pool names; each once, at most
// MaxTokenBindings.
func bindingNames(field string, names []string, domain bool) ([]string, error) {
	if len(names) > MaxTokenBindings {
		return nil, model.Errorf(field, "%d names; a token is bound to at most %d of each kind", len(names), MaxTokenBindings)
	}
	var out []string
	for i, n := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		if domain {
			nm, err := model.ParseName(n)
			if err != nil {
				return nil, model.Errorf(f, "%v", err)
			}
			n = string(nm)
		} else if !model.ValidPoolName(n) {
			return nil, model.Errorf(f, "%q is not a pool name (1-63 letters, digits, . _ -)", n)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// ReplaceToken deletes every token named name and creates a new one with
// the same name and the given scopes in the same transaction. by must hold
// every scope of the new token and of the tokens it replaces (a
// *ScopeError otherwise), and the store keeps a token that can administer
// tokens if it had one (an *InUseError otherwise).
func (s *Tokens) ReplaceToken(ctx context.Context, name string, scopes []string, by *auth.Principal) (string, auth.Token, error) {
	spec, err := s.checkTokenSpec(TokenSpec{Name: name, Scopes: scopes})
	if err != nil {
		return "", auth.Token{}, err
	}
	if err := checkIssue(by, spec); err != nil {
		return "", auth.Token{}, err
	}
	tok, rec, b, err := s.newToken(spec)
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
			if err := checkGrant(by, t.Scopes, t.Bindings, "replace a token with"); err != nil {
				return err
			}
			removed = append(removed, t.ID)
		}
		if err := lastAdmin(tx, s.opts.Clock(), removed, scopes); err != nil {
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

// RetireTokens deletes every token named name but the one with id keep,
// in one transaction that finds keep stored: the second half of a
// rotation that created keep first (CreateToken) and handed it out. by
// must hold every scope of the tokens it deletes (a *ScopeError
// otherwise), and the store keeps a token that can administer tokens if
// it had one (an *InUseError otherwise). It returns the ids deleted.
func (s *Tokens) RetireTokens(ctx context.Context, name, keep string, by *auth.Principal) ([]string, error) {
	var removed []string
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		removed = removed[:0]
		if _, ok, err := tx.Get(schema.TokenKey(keep)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: %s, the token that replaces those named %q", ErrTokenNotFound, keep, name)
		}
		old, err := scanTokens(tx)
		if err != nil {
			return err
		}
		for _, t := range old {
			if t.Name != name || t.ID == keep {
				continue
			}
			if err := checkGrant(by, t.Scopes, t.Bindings, "delete a token with"); err != nil {
				return err
			}
			removed = append(removed, t.ID)
		}
		if len(removed) == 0 {
			return nil
		}
		if err := lastAdmin(tx, s.opts.Clock(), removed, nil); err != nil {
			return err
		}
		for _, id := range removed {
			if err := tx.Delete(schema.TokenKey(id)); err != nil {
				return err
			}
			if err := tx.change(schema.AuditTokenStream(id), "token.delete", "token "+id, "retired for "+keep, schema.TokenKey(id)); err != nil {
				return err
			}
		}
		return tx.commit(ctx, principalName(by))
	})
	if err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		s.log.Info("tokens retired", "ids", removed, "name", name, "kept", keep, "by", by.Name)
	}
	return removed, s.published(ctx, rev)
}

// newToken generates a token and its stored record.
func (s *Tokens) newToken(spec TokenSpec) (string, auth.Token, []byte, error) {
	tok, rec, err := auth.Generate()
	if err != nil {
		return "", auth.Token{}, nil, err
	}
	rec.Name, rec.Scopes, rec.Bindings, rec.Expires, rec.Created = spec.Name, spec.Scopes, spec.Bindings, spec.Expires, s.opts.Clock().UTC()
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
		if err := checkGrant(by, t.Scopes, t.Bindings, "delete a token with"); err != nil {
			return err
		}
		if err := lastAdmin(tx, s.opts.Clock(), []string{id}, nil); err != nil {
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

// AuthenticateKnown resolves a bearer token as Authenticate does, but only
// from the publisher's table, never reading the store: a token the table
// does not hold gets ErrTokenNotFound. The API uses it for requests from
// an address past its limit on failed authentications.
func (s *Tokens) AuthenticateKnown(token string) (*auth.Principal, error) {
	if s.table == nil {
		return nil, ErrTokenNotFound
	}
	now := s.opts.Clock()
	p, known, err := s.table.Check(token, now)
	if !known || p == nil {
		return nil, ErrTokenNotFound
	}
	if err != nil {
		return nil, err
	}
	s.used.touch(p.TokenID, now)
	return p, nil
}

// Authenticate resolves a bearer token to a principal, or returns
// ErrTokenNotFound when it is unknown or its secret does not match, and
// an *auth.ExpiredError when its expiry has passed. A token the
// publisher's table holds is resolved from it, without a store read
// (TokenFollower), its expiry included; any other is read from the
// store. Each success is noted in memory as the token's last use
// (FlushLastUse writes it).
func (s *Tokens) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	id, secret, ok := auth.Parse(token)
	if !ok {
		return nil, ErrTokenNotFound
	}
	now := s.opts.Clock()
	if s.table != nil {
		if p, known, err := s.table.Check(token, now); known {
			if p == nil {
				return nil, ErrTokenNotFound
			}
			if err != nil {
				return nil, err
			}
			s.used.touch(p.TokenID, now)
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
	p := t.Principal()
	if err := p.Expired(now); err != nil {
		return nil, err
	}
	s.used.touch(p.TokenID, now)
	return p, nil
}
