package api

import (
	"context"
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Webhooks serves the alert webhooks (*control.Webhooks).
type Webhooks interface {
	CreateWebhook(ctx context.Context, w control.Webhook, actor string) (*control.Webhook, error)
	Webhook(ctx context.Context, name string) (*control.Webhook, error)
	Webhooks(ctx context.Context) ([]control.Webhook, error)
	DeleteWebhook(ctx context.Context, name, actor string) error
}

// WebhookTester sends a webhook a test alert (*webhook.Dispatcher, through
// the server).
type WebhookTester interface {
	TestWebhook(ctx context.Context, name string) (apiv1.WebhookTestResult, error)
}

// unbound refuses the webhook routes to a token bound to zones, services
// or pools: a webhook receives the alerts of every zone and service.
func unbound(p *auth.Principal) error {
	b := p.Bindings
	for _, k := range []struct {
		kind string
		list []string
	}{{auth.BindZone, b.Zones}, {auth.BindService, b.Services}, {auth.BindPool, b.Pools}} {
		if len(k.list) > 0 {
			return &auth.BindingError{Token: p.Name, Kind: k.kind, Bound: k.list, Action: "manage webhooks, which receive the alerts of every zone and service"}
		}
	}
	return nil
}

// webhookJSON is a webhook as reads show it: the secret redacted.
func webhookJSON(w *control.Webhook) apiv1.Webhook {
	return apiv1.Webhook{Name: w.Name, URL: w.URL, Secret: model.Redacted, Events: w.Events, Services: w.Services, Zones: w.Zones, Created: w.Created}
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := unbound(p); err != nil {
		return err
	}
	hooks, err := h.ctl.Webhooks.Webhooks(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.WebhookList{Webhooks: make([]apiv1.Webhook, 0, len(hooks))}
	for i := range hooks {
		out.Webhooks = append(out.Webhooks, webhookJSON(&hooks[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := unbound(p); err != nil {
		return err
	}
	hook, err := h.ctl.Webhooks.Webhook(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookJSON(hook))
	return nil
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := unbound(p); err != nil {
		return err
	}
	var req apiv1.CreateWebhookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	hook, err := h.ctl.Webhooks.CreateWebhook(r.Context(), control.Webhook{
		Name: req.Name, URL: req.URL, Secret: req.Secret, Events: req.Events, Services: req.Services, Zones: req.Zones,
	}, p.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv1.CreatedWebhook{Webhook: webhookJSON(hook), Secret: hook.Secret})
	return nil
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := unbound(p); err != nil {
		return err
	}
	if err := h.ctl.Webhooks.DeleteWebhook(r.Context(), r.PathValue("name"), p.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) testWebhook(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := unbound(p); err != nil {
		return err
	}
	if h.opts.Webhooks == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server delivers no webhooks")
	}
	res, err := h.opts.Webhooks.TestWebhook(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
