package api

import (
	"net/http"
	"strconv"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func (h *Handler) getJournal(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	jq := control.JournalQuery{Limit: 100}
	order := ""
	for key := range q {
		switch key {
		case "from":
			if jq.From, err = strconv.ParseUint(q.Get(key), 10, 64); err != nil {
				return invalid("from", "want a journal sequence number, got %q", q.Get(key))
			}
		case "before":
			if jq.Before, err = strconv.ParseUint(q.Get(key), 10, 64); err != nil || jq.Before == 0 {
				return invalid("before", "want a journal sequence number from 1, got %q", q.Get(key))
			}
		case "order":
			order = q.Get(key)
			if order != "oldest" && order != "newest" {
				return invalid("order", "want oldest or newest, got %q", order)
			}
		case "limit":
			n, err := parseLimit(q.Get(key), 10000)
			if err != nil {
				return err
			}
			jq.Limit = n
		default:
			return invalid(key, "unknown query parameter %q (known: from, before, order, limit)", key)
		}
	}
	// before pages back from the newest; from reads on from the oldest.
	jq.Newest = order == "newest" || order == "" && q.Has("before")
	switch {
	case jq.Newest && q.Has("from"):
		return invalid("from", "from reads oldest first; newest first pages back with before")
	case !jq.Newest && q.Has("before"):
		return invalid("before", "before pages back newest first (order=newest); oldest first reads on with from")
	}
	entries, more, err := h.ctl.Zones.JournalPage(r.Context(), z, jq)
	if err != nil {
		return err
	}
	out := apiv1.Journal{Zone: string(z), More: more, Entries: make([]apiv1.JournalEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, apiv1.JournalEntry{
			Seq: e.Seq, OldSerial: e.OldSerial, NewSerial: e.NewSerial, Time: e.Time, Actor: e.Actor,
			Reset: e.Reset, Steered: e.Steered, Removed: e.Removed, Added: e.Added,
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
	n, err := h.ctl.Zones.CompactJournal(r.Context(), z, req.Keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv1.JournalCompacted{Zone: string(z), Entries: n})
	return nil
}
