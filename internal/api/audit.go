package api

import (
	"context"
	"net/http"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// AuditLog lists and verifies the audit log (*control.Audit).
type AuditLog interface {
	List(ctx context.Context, q control.AuditQuery) ([]control.AuditEntry, bool, error)
	Verify(ctx context.Context) (*control.AuditReport, error)
}

// maxAuditLimit bounds the entries one GET /v1/audit returns.
const maxAuditLimit = 100000

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	if h.ctl.Audit == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server keeps no audit log")
	}
	q := control.AuditQuery{Limit: 1000}
	query := r.URL.Query()
	for key := range query {
		v := query.Get(key)
		var err error
		switch key {
		case "since", "until":
			t, perr := time.Parse(time.RFC3339Nano, v)
			if perr != nil {
				return invalid(key, "want a time such as 2026-01-02T15:04:05Z (RFC 3339), got %q", v)
			}
			if key == "since" {
				q.Since = t
			} else {
				q.Until = t
			}
		case "actor":
			q.Actor = v
		case "object":
			q.Object = v
		case "limit":
			q.Limit, err = parseLimit(v, maxAuditLimit)
		default:
			return invalid(key, "unknown query parameter %q (known: since, until, actor, object, limit)", key)
		}
		if err != nil {
			return err
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return invalid("until", "%s is not after since %s", q.Until.Format(time.RFC3339Nano), q.Since.Format(time.RFC3339Nano))
	}
	entries, more, err := h.ctl.Audit.List(r.Context(), q)
	if err != nil {
		return err
	}
	out := apiv1.AuditLog{Entries: make([]apiv1.AuditEntry, 0, len(entries)), More: more}
	for _, e := range entries {
		out.Entries = append(out.Entries, apiv1.AuditEntry{
			Stream: e.Stream, Seq: e.Seq, Time: e.Time,
			Actor:  apiv1.AuditActor{Kind: e.Actor.Kind, ID: e.Actor.ID, Name: e.Actor.Name},
			Source: e.Source, Action: e.Action, Object: e.Object, Detail: e.Detail,
			Before: e.Before, After: e.After, Prev: e.Prev, MAC: e.MAC,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) verifyAudit(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	if h.ctl.Audit == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server keeps no audit log")
	}
	for key := range r.URL.Query() {
		return invalid(key, "unknown query parameter %q (verify takes none)", key)
	}
	rep, err := h.ctl.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.AuditVerification{OK: rep.OK(), Entries: rep.Entries, Streams: make([]apiv1.AuditStream, 0, len(rep.Streams)), Problems: make([]apiv1.AuditProblem, 0, len(rep.Problems))}
	for _, s := range rep.Streams {
		out.Streams = append(out.Streams, apiv1.AuditStream{Stream: s.Stream, First: s.First, Last: s.Last, Pruned: s.Pruned, Head: s.Head})
	}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, apiv1.AuditProblem{Stream: p.Stream, Seq: p.Seq, Key: p.Key, Problem: p.Problem})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
