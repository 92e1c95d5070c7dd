package api

import (
	"fmt"
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// rrsetJSON renders a set for responses.
func rrsetJSON(s *model.RRset) (apiv1.RRset, error) {
	out := apiv1.RRset{Name: string(s.Name), Type: model.TypeString(s.Type), TTL: s.TTL, Records: make([]string, 0, len(s.Rdata))}
	for _, rd := range s.Rdata {
		txt, err := model.FormatRdata(s.Type, rd)
		if err != nil {
			return out, err
		}
		out.Records = append(out.Records, txt)
	}
	return out, nil
}

// parseChange validates one change against zone z; field prefixes errors.
func parseChange(z model.Name, c *apiv1.Change, field string) (model.Change, error) {
	var out model.Change
	op, err := model.ParseOp(c.Op)
	if err != nil {
		return out, invalid(field+".op", "%v", err)
	}
	if c.Name == "" {
		return out, invalid(field+".name", "the owner name is required (use \"@\" for the zone apex)")
	}
	name, err := model.ResolveOwner(c.Name, z)
	if err != nil {
		return out, invalid(field+".name", "%v", err)
	}
	if c.Type == "" {
		return out, invalid(field+".type", "the record type is required")
	}
	t, err := model.ParseType(c.Type)
	if err != nil {
		return out, invalid(field+".type", "%v", err)
	}
	if err := model.CheckStorableType(t); err != nil {
		return out, invalid(field+".type", "%v", err)
	}
	out = model.Change{Op: op, Name: name, Type: t}
	if c.TTL != nil {
		if *c.TTL > model.MaxTTL {
			return out, invalid(field+".ttl", "%d is larger than the maximum TTL %d (RFC 2181 section 8)", *c.TTL, model.MaxTTL)
		}
		out.TTL, out.HasTTL = *c.TTL, true
	}
	if op != model.OpDelete && len(c.Records) == 0 {
		return out, invalid(field+".records", "%s needs at least one record", op)
	}
	for i, rec := range c.Records {
		rd, err := model.ParseRdata(t, rec)
		if err != nil {
			return out, invalid(fmt.Sprintf("%s.records[%d]", field, i), "%v", err)
		}
		out.Rdata = append(out.Rdata, rd)
	}
	return out, nil
}

func (h *Handler) listRRsets(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	var f control.RRsetFilter
	q := r.URL.Query()
	for key := range q {
		if key != "name" && key != "type" {
			return invalid(key, "unknown query parameter %q (known: name, type)", key)
		}
	}
	if v := q.Get("name"); v != "" {
		if f.Name, err = model.ResolveOwner(v, z); err != nil {
			return invalid("name", "%v", err)
		}
	}
	if v := q.Get("type"); v != "" {
		if f.Type, err = model.ParseType(v); err != nil {
			return invalid("type", "%v", err)
		}
	}
	sets, serial, err := h.ctl.Zones.RRsets(r.Context(), z, f)
	if err != nil {
		return err
	}
	out := apiv1.RRsetList{Zone: string(z), Serial: serial, RRsets: make([]apiv1.RRset, 0, len(sets))}
	for _, s := range sets {
		js, err := rrsetJSON(s)
		if err != nil {
			return err
		}
		out.RRsets = append(out.RRsets, js)
	}
	w.Header().Set("ETag", etag(serial))
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) patchRRsets(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, im, err := zoneWriteParams(r)
	if err != nil {
		return err
	}
	var req apiv1.ChangeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Changes) == 0 {
		return invalid("changes", "no changes given")
	}
	changes := make([]model.Change, 0, len(req.Changes))
	for i := range req.Changes {
		c, err := parseChange(z, &req.Changes[i], fmt.Sprintf("changes[%d]", i))
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	return h.apply(w, r, z, changes, im, p)
}

// apply commits changes and answers with the result and the new ETag.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request, z model.Name, changes []model.Change, im *uint32, p *auth.Principal) error {
	res, err := h.ctl.Zones.Apply(r.Context(), z, changes, control.WriteOptions{IfMatch: im, Actor: p.Name})
	if err != nil {
		return err
	}
	writeChange(w, res)
	return nil
}

// writeChange answers a committed (or no-op) change with the new serial.
func writeChange(w http.ResponseWriter, res control.ChangeResult) {
	w.Header().Set("ETag", etag(res.Serial))
	writeJSON(w, http.StatusOK, apiv1.ChangeResult{Zone: string(res.Zone), OldSerial: res.OldSerial, Serial: res.Serial, Changed: res.Changed})
}

// rrsetParams parses the {zone}, {name} and {type} path segments.
func rrsetParams(r *http.Request) (model.Name, model.Key, error) {
	z, err := zoneParam(r)
	if err != nil {
		return "", model.Key{}, err
	}
	name, err := model.ResolveOwner(r.PathValue("name"), z)
	if err != nil {
		return "", model.Key{}, invalid("name", "%v", err)
	}
	t, err := model.ParseType(r.PathValue("type"))
	if err != nil {
		return "", model.Key{}, invalid("type", "%v", err)
	}
	return z, model.Key{Name: name, Type: t}, nil
}

func (h *Handler) getRRset(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, k, err := rrsetParams(r)
	if err != nil {
		return err
	}
	sets, serial, err := h.ctl.Zones.RRsets(r.Context(), z, control.RRsetFilter{Name: k.Name, Type: k.Type})
	if err != nil {
		return err
	}
	if len(sets) == 0 {
		return fmt.Errorf("%w: %s %s in zone %s", control.ErrRRsetNotFound, k.Name, model.TypeString(k.Type), z)
	}
	js, err := rrsetJSON(sets[0])
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(serial))
	writeJSON(w, http.StatusOK, js)
	return nil
}

// rrsetWriteParams parses the path and the If-Match header of a write to
// one RRset.
func rrsetWriteParams(r *http.Request) (model.Name, model.Key, *uint32, error) {
	z, k, err := rrsetParams(r)
	if err != nil {
		return "", k, nil, err
	}
	im, err := ifMatch(r)
	return z, k, im, err
}

func (h *Handler) putRRset(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, k, im, err := rrsetWriteParams(r)
	if err != nil {
		return err
	}
	var req apiv1.PutRRsetRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := parseChange(z, &apiv1.Change{Op: string(model.OpSet), Name: string(k.Name), Type: model.TypeString(k.Type), TTL: req.TTL, Records: req.Records}, "body")
	if err != nil {
		if he, ok := err.(*httpError); ok {
			he.field = trimBody(he.field)
		}
		return err
	}
	return h.apply(w, r, z, []model.Change{c}, im, p)
}

func trimBody(field string) string {
	if len(field) > 5 && field[:5] == "body." {
		return field[5:]
	}
	return field
}

func (h *Handler) deleteRRset(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, k, im, err := rrsetWriteParams(r)
	if err != nil {
		return err
	}
	res, err := h.ctl.Zones.DeleteRRset(r.Context(), z, k, control.WriteOptions{IfMatch: im, Actor: p.Name})
	if err != nil {
		return err
	}
	writeChange(w, res)
	return nil
}
