package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TSIGKeys lists TSIG keys (never their secrets).
func (c *Client) TSIGKeys(ctx context.Context) ([]apiv1.TSIGKey, error) {
	var out apiv1.TSIGKeyList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/tsig-keys"}, &out)
	return out.Keys, err
}

// TSIGKey returns one TSIG key (never its secret).
func (c *Client) TSIGKey(ctx context.Context, name string) (apiv1.TSIGKey, error) {
	var out apiv1.TSIGKey
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/tsig-keys/" + url.PathEscape(name)}, &out)
	return out, err
}

// CreateTSIGKey creates a TSIG key; the secret is in the result only.
func (c *Client) CreateTSIGKey(ctx context.Context, req apiv1.CreateTSIGKeyRequest) (apiv1.CreatedTSIGKey, error) {
	var out apiv1.CreatedTSIGKey
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/tsig-keys", json: req}, &out)
	return out, err
}

// DeleteTSIGKey deletes a TSIG key.
func (c *Client) DeleteTSIGKey(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/tsig-keys/" + url.PathEscape(name)}, nil)
	return err
}
