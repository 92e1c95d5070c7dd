package api

import (
	"fmt"
	"strings"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// zoneACLModel converts and validates an ACL from the API, naming the
// offending field.
func zoneACLModel(in *apiv1.ZoneACL) (model.ZoneACL, error) {
	var out model.ZoneACL
	var err error
	if out.Transfer, err = aclRulesModel("acl.transfer", in.Transfer); err != nil {
		return out, err
	}
	if out.Update, err = aclRulesModel("acl.update", in.Update); err != nil {
		return out, err
	}
	out.Notify, err = aclRulesModel("acl.notify", in.Notify)
	return out, err
}

// aclRulesModel converts and validates the rules of one list.
func aclRulesModel(field string, in []apiv1.ACLRule) ([]model.ACLRule, error) {
	out := []model.ACLRule{}
	for i, r := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		var m model.ACLRule
		if r.Key != "" {
			k, err := model.ParseName(r.Key)
			if err != nil {
				return nil, invalid(f+".key", "%v", err)
			}
			m.Key = k
		}
		if r.Network != "" {
			p, err := model.ParseNetwork(r.Network)
			if err != nil {
				return nil, invalid(f+".network", "%v", err)
			}
			m.Network = p
		}
		if err := m.Validate(); err != nil {
			return nil, invalid(f, "%v", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// notifyModel converts and validates NOTIFY targets from the API.
func notifyModel(in []apiv1.NotifyTarget) ([]model.NotifyTarget, error) {
	out := []model.NotifyTarget{}
	for i, t := range in {
		field := fmt.Sprintf("notify[%d]", i)
		spec := t.Address
		if t.Key != "" {
			spec += ",key=" + t.Key
		}
		m, err := model.ParseNotifyTarget(spec)
		if err != nil {
			return nil, invalid(field, "%v", err)
		}
		out = append(out, m)
	}
	return out, nil
}

func zoneACLJSON(a model.ZoneACL) apiv1.ZoneACL {
	conv := func(rs []model.ACLRule) []apiv1.ACLRule {
		out := make([]apiv1.ACLRule, 0, len(rs))
		for _, r := range rs {
			j := apiv1.ACLRule{Key: string(r.Key)}
			if r.Network.IsValid() {
				j.Network = r.Network.String()
			}
			out = append(out, j)
		}
		return out
	}
	return apiv1.ZoneACL{Transfer: conv(a.Transfer), Update: conv(a.Update), Notify: conv(a.Notify)}
}

func notifyJSON(ts []model.NotifyTarget) []apiv1.NotifyTarget {
	out := make([]apiv1.NotifyTarget, 0, len(ts))
	for _, t := range ts {
		out = append(out, apiv1.NotifyTarget{Address: t.Address.String(), Key: string(t.Key)})
	}
	return out
}

// primariesModel converts and validates a secondary zone's primaries.
func primariesModel(in []apiv1.NotifyTarget) ([]model.NotifyTarget, error) {
	out, err := notifyModel(in)
	if err != nil {
		if he, ok := err.(*httpError); ok {
			he.field = "primaries" + strings.TrimPrefix(he.field, "notify")
		}
		return nil, err
	}
	if len(out) == 0 {
		return nil, invalid("primaries", "a secondary zone needs at least one primary")
	}
	return out, nil
}
