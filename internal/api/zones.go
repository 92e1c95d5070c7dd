package api

import (
	"fmt"
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func zoneJSON(z model.ZoneInfo) apiv1.Zone {
	out := apiv1.Zone{
		Name: string(z.Name), DefaultTTL: z.DefaultTTL,
		RRsets: z.RRsets, Records: z.Records, Created: z.Created,
		ACL: zoneACLJSON(z.ACL), Notify: notifyJSON(z.Notify), Primaries: notifyJSON(z.Primaries),
		Secondary: secondaryJSON(&z.ZoneSettings, z.Secondary),
	}
	if z.HasSerial() {
		serial := z.Serial
		out.Serial = &serial
	}
	if !z.IsSecondary() {
		out.SerialPolicy = string(z.SerialPolicy)
	}
	if !z.Updated.IsZero() {
		out.Updated = &z.Updated
	}
	return out
}

func secondaryJSON(zs *model.ZoneSettings, st model.SecondaryState) *apiv1.SecondaryState {
	if !zs.IsSecondary() {
		return nil
	}
	out := &apiv1.SecondaryState{Expired: st.Expired, LastError: st.LastError}
	if !st.Refreshed.IsZero() {
		out.Refreshed = &st.Refreshed
	}
	return out
}

func (h *Handler) listZones(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	zones, err := h.ctl.Zones.ListZones(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.ZoneList{Zones: []apiv1.Zone{}}
	for _, z := range zones {
		if p.Zone(string(z.Name)) != nil {
			continue // a bound token lists its zones only
		}
		out.Zones = append(out.Zones, zoneJSON(z))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getZone(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	info, err := h.ctl.Zones.GetZone(r.Context(), z)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(info.Serial))
	writeJSON(w, http.StatusOK, zoneJSON(info))
	return nil
}

func (h *Handler) createZone(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req apiv1.CreateZoneRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := boundName(req.Name, p.Zone); err != nil {
		return err
	}
	var info model.ZoneInfo
	if len(req.Primaries) > 0 {
		zs, err := secondarySettings(&req)
		if err != nil {
			return err
		}
		if info, err = h.ctl.Secondaries.CreateSecondaryZone(r.Context(), zs, p.Name); err != nil {
			return err
		}
	} else {
		nz, err := h.newZone(&req)
		if err != nil {
			return err
		}
		if _, err := h.ctl.Zones.CreateZone(r.Context(), nz, nil, p.Name); err != nil {
			return err
		}
		if info, err = h.ctl.Zones.GetZone(r.Context(), nz.Settings.Name); err != nil {
			return err
		}
	}
	w.Header().Set("ETag", etag(info.Serial))
	w.Header().Set("Location", "/v1/zones/"+apiv1.PathSegment(string(info.Name)))
	writeJSON(w, http.StatusCreated, zoneJSON(info))
	return nil
}

// newZone validates a create request.
func (h *Handler) newZone(req *apiv1.CreateZoneRequest) (control.NewZone, error) {
	var nz control.NewZone
	if req.Name == "" {
		return nz, invalid("name", "the zone name is required")
	}
	z, err := model.ParseName(req.Name)
	if err != nil {
		return nz, invalid("name", "%v", err)
	}
	policy, err := model.ParseSerialPolicy(req.SerialPolicy)
	if err != nil {
		return nz, invalid("serial_policy", "%v", err)
	}
	nz.Settings = model.ZoneSettings{Name: z, SerialPolicy: policy, DefaultTTL: model.DefaultZoneTTL}
	if req.DefaultTTL != nil {
		if *req.DefaultTTL > model.MaxTTL {
			return nz, invalid("default_ttl", "%d is larger than the maximum TTL %d", *req.DefaultTTL, model.MaxTTL)
		}
		nz.Settings.DefaultTTL = *req.DefaultTTL
	}
	for i, s := range req.Nameservers {
		n, err := model.ParseName(s)
		if err != nil {
			return nz, invalid(fmt.Sprintf("nameservers[%d]", i), "%v", err)
		}
		nz.Nameservers = append(nz.Nameservers, n)
	}
	if len(nz.Nameservers) == 0 {
		nz.Nameservers = h.opts.DefaultNameservers
	}
	if len(nz.Nameservers) == 0 {
		return nz, invalid("nameservers", "give at least one name server for the zone's NS records (the server has no default name servers configured)")
	}
	if req.Hostmaster != "" {
		if nz.Hostmaster, err = model.ParseName(req.Hostmaster); err != nil {
			return nz, invalid("hostmaster", "%v", err)
		}
	}
	if req.ACL != nil {
		if nz.Settings.ACL, err = zoneACLModel(req.ACL); err != nil {
			return nz, err
		}
	}
	if nz.Settings.Notify, err = notifyModel(req.Notify); err != nil {
		return nz, err
	}
	if req.SOA != nil {
		nz.Refresh, nz.Retry, nz.Expire, nz.Minimum = req.SOA.Refresh, req.SOA.Retry, req.SOA.Expire, req.SOA.Minimum
		// In the SOA record's order, so that the field named is always
		// the first invalid one.
		for _, f := range []struct {
			name  string
			value uint32
		}{{"soa.refresh", nz.Refresh}, {"soa.retry", nz.Retry}, {"soa.expire", nz.Expire}, {"soa.minimum", nz.Minimum}} {
			if f.value > model.MaxTTL {
				return nz, invalid(f.name, "%d is larger than %d", f.value, model.MaxTTL)
			}
		}
	}
	return nz, nil
}

func (h *Handler) updateZone(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	var req apiv1.UpdateZoneRequest
	if err := decodeMergePatch(w, r, &req); err != nil {
		return err
	}
	u := control.ZoneUpdate{DefaultTTL: req.DefaultTTL}
	if req.ACL != nil {
		for _, l := range []struct {
			field string
			in    *[]apiv1.ACLRule
			out   **[]model.ACLRule
		}{{"acl.transfer", req.ACL.Transfer, &u.Transfer}, {"acl.update", req.ACL.Update, &u.Update}, {"acl.notify", req.ACL.Notify, &u.NotifyACL}} {
			if l.in == nil {
				continue
			}
			rules, err := aclRulesModel(l.field, *l.in)
			if err != nil {
				return err
			}
			*l.out = &rules
		}
	}
	if req.Notify != nil {
		ts, err := notifyModel(*req.Notify)
		if err != nil {
			return err
		}
		u.Notify = &ts
	}
	if req.Primaries != nil {
		ps, err := primariesModel(*req.Primaries)
		if err != nil {
			return err
		}
		u.Primaries = &ps
	}
	info, err := h.ctl.Zones.UpdateZone(r.Context(), z, u, p.Name)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(info.Serial))
	writeJSON(w, http.StatusOK, zoneJSON(info))
	return nil
}

func (h *Handler) deleteZone(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, im, err := zoneWriteParams(r)
	if err != nil {
		return err
	}
	if err := h.ctl.Zones.DeleteZone(r.Context(), z, control.WriteOptions{IfMatch: im, Actor: p.Name}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secondarySettings validates a request to create a secondary zone.
func secondarySettings(req *apiv1.CreateZoneRequest) (model.ZoneSettings, error) {
	var zs model.ZoneSettings
	z, err := model.ParseName(req.Name)
	if err != nil {
		return zs, invalid("name", "%v", err)
	}
	// In the request's order, so that the field named is always the first
	// one given.
	for _, f := range []struct {
		name  string
		given bool
	}{{"nameservers", len(req.Nameservers) > 0}, {"hostmaster", req.Hostmaster != ""}, {"serial_policy", req.SerialPolicy != ""}, {"soa", req.SOA != nil}} {
		if f.given {
			return zs, invalid(f.name, "a secondary zone takes its SOA and NS records from its primaries: leave %s out", f.name)
		}
	}
	zs = model.ZoneSettings{Name: z, SerialPolicy: model.SerialIncrement}
	if req.DefaultTTL != nil {
		zs.DefaultTTL = *req.DefaultTTL
	}
	if zs.Primaries, err = primariesModel(req.Primaries); err != nil {
		return zs, err
	}
	if req.ACL != nil {
		if zs.ACL, err = zoneACLModel(req.ACL); err != nil {
			return zs, err
		}
	}
	zs.Notify, err = notifyModel(req.Notify)
	return zs, err
}
