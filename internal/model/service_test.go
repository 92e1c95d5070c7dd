package model

import (
	"strings"
	"testing"
)

// TestServiceWhenAllDownJurisdiction checks that a static when_all_down
// answer of a service restricted to jurisdictions must say it is in one of
// them: it is answered without any check, and the jurisdictions are never
// to be crossed.
func TestServiceWhenAllDownJurisdiction(t *testing.T) {
	eu := []Pool{{Name: "eu-1", Jurisdiction: "eu"}, {Name: "us-1", Jurisdiction: "us"}}
	tests := []struct {
		name          string
		jurisdictions []string
		allDown       AllDown
		field, msg    string // "" when valid
	}{
		{"static without jurisdictions anywhere", nil, AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1"}}, "", ""},
		{"static, restricted service, no jurisdiction given", []string{"eu"},
			AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1"}}, "when_all_down.jurisdiction", "say which of them the static answer is in"},
		{"static, restricted service, a jurisdiction not allowed", []string{"eu"},
			AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1"}, Jurisdiction: "us"}, "when_all_down.jurisdiction", `"us" is outside the allowed jurisdictions (eu)`},
		{"static hostname, restricted service, a jurisdiction not allowed", []string{"eu"},
			AllDown{Mode: AllDownStatic, Static: []string{"sorry.example.net"}, Jurisdiction: "apac"}, "when_all_down.jurisdiction", "outside the allowed jurisdictions"},
		{"static, restricted service, an allowed jurisdiction", []string{"eu", "ch"},
			AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1", "2001:db8::1"}, Jurisdiction: "ch"}, "", ""},
		{"static, unrestricted service, a jurisdiction given", nil,
			AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1"}, Jurisdiction: "eu"}, "", ""},
		{"static, a bad jurisdiction name", nil,
			AllDown{Mode: AllDownStatic, Static: []string{"192.0.2.1"}, Jurisdiction: "e u"}, "when_all_down.jurisdiction", "not a jurisdiction name"},
		{"fallback with a jurisdiction", []string{"eu"},
			AllDown{Mode: AllDownFallback, Pool: "eu-1", Jurisdiction: "eu"}, "when_all_down.jurisdiction", "only a static answer"},
		{"fallback outside the jurisdictions", []string{"eu"},
			AllDown{Mode: AllDownFallback, Pool: "us-1"}, "when_all_down.pool", "outside the allowed jurisdictions"},
		{"fail_open, restricted service", []string{"eu"}, AllDown{}, "", ""},
		{"static address that is not one", []string{"eu"},
			AllDown{Mode: AllDownStatic, Static: []string{"a..b"}, Jurisdiction: "eu"}, "when_all_down.static[0]", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Service{Name: "api.example.com.", Jurisdictions: tc.jurisdictions, WhenAllDown: tc.allDown, Pools: append([]Pool(nil), eu...)}
			s.Normalize()
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fe, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v (%T), want one on %s", err, err, tc.field)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Error(), tc.msg) {
				t.Errorf("error on %q: %v; want one on %q containing %q", fe.Field, fe, tc.field, tc.msg)
			}
		})
	}
}
