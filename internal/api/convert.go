package api

import (
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// duration parses an optional duration field.
func duration(field, s string) (model.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > maxDurationLen {
		return 0, invalid(field, "is %d bytes long; a duration such as 10s or 250ms is at most %d", len(s), maxDurationLen)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, invalid(field, "%q is not a duration such as 10s or 250ms", s)
	}
	return model.Duration(d), nil
}

func durationString(d model.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// serviceModel converts a service from the API, naming fields in errors.
func serviceModel(in *apiv1.Service) (model.Service, error) {
	var s model.Service
	n, err := model.ParseName(in.Name)
	if err != nil {
		return s, invalid("name", "%v", err)
	}
	s = model.Service{
		Name: n, TTL: in.TTL, DegradedTTL: in.DegradedTTL, Policy: in.Policy, Chain: in.Chain,
		MaxAnswers: in.MaxAnswers, Sticky: in.Sticky, Jurisdictions: in.Jurisdictions, Flatten: in.Flatten,
	}
	if in.WhenAllDown != nil {
		s.WhenAllDown = model.AllDown{Mode: in.WhenAllDown.Mode, Pool: in.WhenAllDown.Pool, Static: in.WhenAllDown.Static, Jurisdiction: in.WhenAllDown.Jurisdiction}
	}
	if in.ColdStart != nil {
		s.ColdStart.Mode = in.ColdStart.Mode
		if s.ColdStart.Wait, err = duration("cold_start.wait", in.ColdStart.Wait); err != nil {
			return s, err
		}
	}
	if in.Damping != nil {
		s.Damping.Flaps = in.Damping.Flaps
		if s.Damping.Window, err = duration("damping.window", in.Damping.Window); err != nil {
			return s, err
		}
		if s.Damping.HoldDown, err = duration("damping.hold_down", in.Damping.HoldDown); err != nil {
			return s, err
		}
	}
	for i := range in.Pools {
		p, err := poolModel(&in.Pools[i], fmt.Sprintf("pools[%d]", i))
		if err != nil {
			return s, err
		}
		s.Pools = append(s.Pools, p)
	}
	return s, nil
}

func poolModel(in *apiv1.Pool, field string) (model.Pool, error) {
	p := model.Pool{
		Name: in.Name, Region: in.Region, Country: in.Country, Continent: in.Continent, Provider: in.Provider,
		Jurisdiction: in.Jurisdiction, Latitude: in.Latitude, Longitude: in.Longitude, Priority: in.Priority,
		Weight: in.Weight, MinHealthy: in.MinHealthy,
	}
	if in.Override != nil {
		p.Override = &model.Override{State: in.Override.State, Actor: in.Override.Actor, Reason: in.Override.Reason, Time: in.Override.Time}
		if in.Override.Expires != nil {
			p.Override.Expires = *in.Override.Expires
		}
	}
	if c := in.Check; c != nil {
		var err error
		p.Check = model.CheckSpec{
			Type: c.Type, Rise: c.Rise, Fall: c.Fall, Port: c.Port, Method: c.Method, Path: c.Path,
			ExpectStatus: c.ExpectStatus, BodyContains: c.BodyContains, Headers: c.Headers, UserAgent: c.UserAgent,
			Host: c.Host, TLSVerify: c.TLSVerify, QName: c.QName, QType: c.QType, ExpectRcode: c.ExpectRcode, ExpectAnswer: c.ExpectAnswer,
		}
		for _, d := range []struct {
			name string
			in   string
			out  *model.Duration
		}{{"interval", c.Interval, &p.Check.Interval}, {"timeout", c.Timeout, &p.Check.Timeout}, {"push_ttl", c.PushTTL, &p.Check.PushTTL}} {
			if *d.out, err = duration(field+".check."+d.name, d.in); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// serviceJSON renders a service for responses. Check header values are
// secrets: they are shown as model.Redacted (see model.RestoreRedacted for
// what a write that sends the placeholder back does).
func serviceJSON(s *model.Service) apiv1.Service {
	out := apiv1.Service{
		Name: string(s.Name), Zone: string(s.Zone), TTL: s.TTL, DegradedTTL: s.DegradedTTL, Policy: s.Policy,
		Chain: s.Chain, MaxAnswers: s.MaxAnswers, Sticky: s.Sticky, Jurisdictions: s.Jurisdictions, Flatten: s.Flatten,
		WhenAllDown: &apiv1.AllDown{Mode: s.WhenAllDown.Mode, Pool: s.WhenAllDown.Pool, Static: s.WhenAllDown.Static, Jurisdiction: s.WhenAllDown.Jurisdiction},
		ColdStart:   &apiv1.ColdStart{Mode: s.ColdStart.Mode, Wait: durationString(s.ColdStart.Wait)},
		Damping:     &apiv1.Damping{Flaps: s.Damping.Flaps, Window: durationString(s.Damping.Window), HoldDown: durationString(s.Damping.HoldDown)},
		Version:     s.Version, Pools: []apiv1.Pool{},
	}
	if !s.Created.IsZero() {
		out.Created, out.Updated = &s.Created, &s.Updated
	}
	for i := range s.Pools {
		p := &s.Pools[i]
		c := &p.Check
		jp := apiv1.Pool{
			Name: p.Name, Region: p.Region, Country: p.Country, Continent: p.Continent, Provider: p.Provider,
			Jurisdiction: p.Jurisdiction, Latitude: p.Latitude, Longitude: p.Longitude, Priority: p.Priority,
			Weight: p.Weight, MinHealthy: p.MinHealthy, Override: overrideJSON(p.Override),
			Check: &apiv1.Check{
				Type: c.Type, Interval: durationString(c.Interval), Timeout: durationString(c.Timeout), Rise: c.Rise, Fall: c.Fall,
				Port: c.Port, Method: c.Method, Path: c.Path, ExpectStatus: c.ExpectStatus, BodyContains: c.BodyContains,
				Headers: model.RedactHeaders(c.Headers), UserAgent: c.UserAgent, Host: c.Host, TLSVerify: c.TLSVerify, QName: c.QName,
				QType: c.QType, ExpectRcode: c.ExpectRcode, ExpectAnswer: c.ExpectAnswer, PushTTL: durationString(c.PushTTL),
			},
		}
		switch c.Type {
		case model.CheckNone:
			jp.Check = &apiv1.Check{Type: c.Type} // nothing else applies
		case model.CheckPush:
			jp.Check = &apiv1.Check{Type: c.Type, PushTTL: durationString(c.PushTTL)}
		}
		out.Pools = append(out.Pools, jp)
	}
	return out
}

func overrideJSON(o *model.Override) *apiv1.Override {
	if o == nil || o.State == "" {
		return nil // none, or cleared
	}
	out := &apiv1.Override{State: o.State, Actor: o.Actor, Reason: o.Reason, Time: o.Time}
	if !o.Expires.IsZero() {
		out.Expires = &o.Expires
	}
	return out
}

// endpointModel converts an endpoint from the API.
func endpointModel(in *apiv1.Endpoint) (model.Endpoint, error) {
	e := model.Endpoint{ID: in.ID, Pool: in.Pool, Address: in.Address, Weight: in.Weight, CheckTarget: in.CheckTarget}
	var err error
	if e.LeaseTTL, err = duration("ttl", in.TTL); err != nil {
		return e, err
	}
	return e, nil
}

// endpointJSON renders an endpoint, with its health when known.
func endpointJSON(e *model.Endpoint, st *health.Status) apiv1.Endpoint {
	out := apiv1.Endpoint{
		ID: e.ID, Pool: e.Pool, Address: e.Address, Weight: e.Weight, CheckTarget: e.CheckTarget,
		TTL: durationString(e.LeaseTTL), Override: overrideJSON(e.Override), Created: &e.Created, Renewed: &e.Renewed,
	}
	if e.Leased() {
		out.Expires = &e.Expires
	}
	if st != nil {
		h := &apiv1.EndpointHealth{State: st.State.String(), Since: st.Since, LastError: st.LastError, View: st.View}
		if !st.LastCheck.IsZero() {
			h.LastCheck = &st.LastCheck
		}
		if st.RTT > 0 {
			h.RTT = st.RTT.String()
		}
		if !st.HeldUntil.IsZero() {
			h.HeldUntil = &st.HeldUntil
		}
		out.Health = h
	}
	return out
}

// explanationJSON renders an explanation.
func explanationJSON(x *steer.Explanation) apiv1.Explanation {
	out := apiv1.Explanation{
		Service: x.Service, QType: x.QType, Client: x.Client, Subnet: x.Subnet, Notes: x.Notes, AllDown: x.AllDown,
		Rcode: x.Rcode, Answer: x.Answer, TTL: x.TTL, Scope: x.Scope, Steps: []apiv1.Step{}, Pools: []apiv1.PoolState{},
		Location: apiv1.Location{Known: x.Location.Known, Region: x.Location.Region, Country: x.Location.Country, Continent: x.Location.Continent},
	}
	if x.Location.HasCoords {
		out.Location.Latitude, out.Location.Longitude = &x.Location.Lat, &x.Location.Lon
	}
	if x.Location.Prefix.IsValid() {
		out.Location.Network = x.Location.Prefix.String()
	}
	for _, p := range x.Pools {
		out.Pools = append(out.Pools, apiv1.PoolState{Name: p.Name, Up: p.Up, Healthy: p.Healthy, Total: p.Total, Why: p.Why})
	}
	for _, st := range x.Steps {
		js := apiv1.Step{Filter: st.Filter, In: st.In, Out: st.Out}
		for _, r := range st.Removed {
			js.Removed = append(js.Removed, apiv1.Removal{Endpoint: r.Endpoint, Pool: r.Pool, Reason: r.Reason})
		}
		out.Steps = append(out.Steps, js)
	}
	return out
}
