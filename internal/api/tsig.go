package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func tsigKeyJSON(k *model.TSIGKey) apiv1.TSIGKey {
	return apiv1.TSIGKey{Name: k.Name.String(), Algorithm: k.Algorithm, Created: k.Created}
}

func (h *Handler) listTSIGKeys(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	keys, err := h.ctl.TSIGKeys.TSIGKeys(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.TSIGKeyList{Keys: make([]apiv1.TSIGKey, 0, len(keys))}
	for i := range keys {
		out.Keys = append(out.Keys, tsigKeyJSON(&keys[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getTSIGKey(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	k, err := h.ctl.TSIGKeys.TSIGKey(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tsigKeyJSON(k))
	return nil
}

func (h *Handler) createTSIGKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req apiv1.CreateTSIGKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	k, err := h.ctl.TSIGKeys.CreateTSIGKey(r.Context(), req.Name, req.Algorithm, req.Secret, p.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv1.CreatedTSIGKey{TSIGKey: tsigKeyJSON(k), Secret: k.SecretBase64()})
	return nil
}

func (h *Handler) deleteTSIGKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := h.ctl.TSIGKeys.DeleteTSIGKey(r.Context(), r.PathValue("name"), p.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
