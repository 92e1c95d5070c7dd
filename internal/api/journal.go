package api

import (
	"net/http"
	"strconv"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (h *Handler) getJournal(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var from uint64
	limit := 100
	for key := range q {
		switch key {
		case "from":
			if from, err = strconv.ParseUint(q.Get(key), 10, 64); err != nil {
				return invalid("from", "want a journal sequence number, got %q", q.Get(key))
			}
		case "limit":
			n, err := parseLimit(q.Get(key), 10000)
			if err != nil {
				return err
			}
			limit = n
		default:
			return invalid(key, "unknown query parameter %q (known: from, limit)", key)
		}
	}
	entries, err := h.svc.Journal(r.Context(), z, from, limit)
	if err != nil {
		return err
	}
	out := apiv1.Journal{Zone: string(z), Entries: make([]apiv1.JournalEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, apiv1.JournalEntry{
			Seq: e.Seq, OldSerial: e.OldSerial, NewSerial: e.NewSerial, Time: e.Time, Actor: e.Actor,
			Reset: e.Reset, Removed: e.Removed, Added: e.Added,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) compactJournal(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	var req apiv1.CompactJournalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	n, err := h.svc.CompactJournal(r.Context(), z, req.Keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv1.JournalCompacted{Zone: string(z), Entries: n})
	return nil
}
