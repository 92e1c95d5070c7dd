package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func tokenJSON(t auth.Token) apiv1.Token {
	return apiv1.Token{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Created: t.Created}
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	toks, err := h.ctl.Tokens.Tokens(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.TokenList{Tokens: make([]apiv1.Token, 0, len(toks))}
	for _, t := range toks {
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
	secret, rec, err := h.ctl.Tokens.CreateToken(r.Context(), req.Name, req.Scopes, p)
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
