package client

import (
	"context"
	"net/http"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Status returns the state of the node that answers.
func (c *Client) Status(ctx context.Context) (apiv1.Status, error) {
	var out apiv1.Status
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/status"}, &out)
	return out, err
}
