package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// AuditQuery selects audit entries; zero fields select all.
type AuditQuery struct {
	Since, Until time.Time
	Actor        string
	Object       string
	Limit        int // 0: the server's default (1000)
}

// Audit reads one page of the audit log, oldest first.
func (c *Client) Audit(ctx context.Context, q AuditQuery) (apiv1.AuditLog, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Actor != "" {
		v.Set("actor", q.Actor)
	}
	if q.Object != "" {
		v.Set("object", q.Object)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out apiv1.AuditLog
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/audit", query: v}, &out)
	return out, err
}

// VerifyAudit verifies the audit log's chains on the server.
func (c *Client) VerifyAudit(ctx context.Context) (apiv1.AuditVerification, error) {
	var out apiv1.AuditVerification
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/audit/verify"}, &out)
	return out, err
}
