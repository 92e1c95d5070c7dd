package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func tokenJSON(t auth.Token) apiv1.Token {
	return apiv1.Token{ID: t.ID, Name: t.Name, Scopes: t.Scopes,
		Zones: t.Zones, Services: t.Services, Pools: t.Pools,
		Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed}
}

// listTokens lists the tokens; a bound token sees only those whose
// bindings are within its own (those it may delete).
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	toks, err := h.ctl.Tokens.Tokens(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.TokenList{Tokens: make([]apiv1.Token, 0, len(toks))}
	for _, t := range toks {
		if p.Exceeds(t.Bindings) != nil {
			continue
		}
		out.Tokens = append(out.Tokens, tokenJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req apiv1.CreateTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	spec := control.TokenSpec{
		Name:     req.Name,
		Scopes:   req.Scopes,
		Bindings: auth.Bindings{Zones: req.Zones, Services: req.Services, Pools: req.Pools},
		Expires:  req.Expires,
	}
	secret, rec, err := h.ctl.Tokens.IssueToken(r.Context(), spec, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv1.CreatedToken{Token: tokenJSON(rec), Secret: secret})
	return nil
}

func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	if id == p.TokenID {
		return invalid("id", "a token cannot delete itself")
	}
	if err := h.ctl.Tokens.DeleteToken(r.Context(), id, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
