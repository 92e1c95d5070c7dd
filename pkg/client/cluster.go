package client

import (
	"context"
	"net/http"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Cluster returns the nodes of the cluster (GET /v1/cluster).
func (c *Client) Cluster(ctx context.Context) (apiv1.Cluster, error) {
	var out apiv1.Cluster
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/cluster"}, &out)
	return out, err
}
