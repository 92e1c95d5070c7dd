package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Webhooks lists the alert webhooks (their secrets redacted).
func (c *Client) Webhooks(ctx context.Context) ([]apiv1.Webhook, error) {
	var out apiv1.WebhookList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/webhooks"}, &out)
	return out.Webhooks, err
}

// Webhook returns one alert webhook (its secret redacted).
func (c *Client) Webhook(ctx context.Context, name string) (apiv1.Webhook, error) {
	var out apiv1.Webhook
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/webhooks/" + url.PathEscape(name)}, &out)
	return out, err
}

// CreateWebhook creates an alert webhook; the secret is in the result
// only.
func (c *Client) CreateWebhook(ctx context.Context, req apiv1.CreateWebhookRequest) (apiv1.CreatedWebhook, error) {
	var out apiv1.CreatedWebhook
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/webhooks", json: req}, &out)
	return out, err
}

// DeleteWebhook deletes an alert webhook.
func (c *Client) DeleteWebhook(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhooks/" + url.PathEscape(name)}, nil)
	return err
}

// TestWebhook sends a webhook a test alert and returns how its receiver
// answered.
func (c *Client) TestWebhook(ctx context.Context, name string) (apiv1.WebhookTestResult, error) {
	var out apiv1.WebhookTestResult
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/webhooks/" + url.PathEscape(name) + "/test"}, &out)
	return out, err
}
