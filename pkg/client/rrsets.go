package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// RRsets lists a zone's RRsets, filtered by name and type when not empty.
func (c *Client) RRsets(ctx context.Context, zone, name, typ string) (apiv1.RRsetList, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if typ != "" {
		q.Set("type", typ)
	}
	var out apiv1.RRsetList
	_, err := c.do(ctx, request{method: http.MethodGet, path: zonePath(zone) + "/rrsets", query: q}, &out)
	return out, err
}

// ChangeRRsets applies changes atomically; ifMatch makes it conditional.
func (c *Client) ChangeRRsets(ctx context.Context, zone string, changes []apiv1.Change, ifMatch *uint32) (apiv1.ChangeResult, error) {
	var out apiv1.ChangeResult
	_, err := c.do(ctx, request{method: http.MethodPatch, path: zonePath(zone) + "/rrsets", json: apiv1.ChangeRequest{Changes: changes}, ifMatch: serial(ifMatch)}, &out)
	return out, err
}

func rrsetPath(zone, name, typ string) string {
	return zonePath(zone) + "/rrsets/" + apiv1.PathSegment(name) + "/" + apiv1.PathSegment(typ)
}

// RRset returns one RRset.
func (c *Client) RRset(ctx context.Context, zone, name, typ string) (apiv1.RRset, error) {
	var out apiv1.RRset
	_, err := c.do(ctx, request{method: http.MethodGet, path: rrsetPath(zone, name, typ)}, &out)
	return out, err
}

// SetRRset replaces one RRset.
func (c *Client) SetRRset(ctx context.Context, zone, name, typ string, ttl *uint32, records []string, ifMatch *uint32) (apiv1.ChangeResult, error) {
	var out apiv1.ChangeResult
	_, err := c.do(ctx, request{method: http.MethodPut, path: rrsetPath(zone, name, typ), json: apiv1.PutRRsetRequest{TTL: ttl, Records: records}, ifMatch: serial(ifMatch)}, &out)
	return out, err
}

// DeleteRRset deletes one RRset.
func (c *Client) DeleteRRset(ctx context.Context, zone, name, typ string, ifMatch *uint32) (apiv1.ChangeResult, error) {
	var out apiv1.ChangeResult
	_, err := c.do(ctx, request{method: http.MethodDelete, path: rrsetPath(zone, name, typ), ifMatch: serial(ifMatch)}, &out)
	return out, err
}
