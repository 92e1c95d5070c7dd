package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Tokens lists API tokens.
func (c *Client) Tokens(ctx context.Context) ([]apiv1.Token, error) {
	var out apiv1.TokenList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/tokens"}, &out)
	return out.Tokens, err
}

// CreateToken creates a token; the secret is in the result only.
func (c *Client) CreateToken(ctx context.Context, name string, scopes []string) (apiv1.CreatedToken, error) {
	var out apiv1.CreatedToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/tokens", json: apiv1.CreateTokenRequest{Name: name, Scopes: scopes}}, &out)
	return out, err
}

// IssueToken creates a token as req says (bindings, expiry); the secret
// is in the result only.
func (c *Client) IssueToken(ctx context.Context, req apiv1.CreateTokenRequest) (apiv1.CreatedToken, error) {
	var out apiv1.CreatedToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/tokens", json: req}, &out)
	return out, err
}

// DeleteToken deletes a token by id.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/tokens/" + url.PathEscape(id)}, nil)
	return err
}
