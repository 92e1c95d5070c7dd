package api

import (
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestCreateZoneNamesFirstInvalidField sends several invalid fields at once
// and checks that the error always names the same one: the first in the
// order the record or the request lays them out, whatever the order in
// which they were checked.
func TestCreateZoneNamesFirstInvalidField(t *testing.T) {
	e := newAPI(t)
	for _, tc := range []struct {
		name, body string
		want       apiv1.Error
	}{
		{
			"SOA timers in the record's order",
			`{"name":"a.test","nameservers":["ns.a.test."],"soa":{"retry":4294967295,"expire":4294967294,"minimum":4294967293}}`,
			apiv1.Error{Status: 400, Code: apiv1.CodeInvalid, Field: "soa.retry", Message: "4294967295 is larger than 2147483647"},
		},
		{
			"every SOA timer",
			`{"name":"a.test","nameservers":["ns.a.test."],"soa":{"refresh":4294967295,"retry":4294967294,"expire":4294967293,"minimum":4294967292}}`,
			apiv1.Error{Status: 400, Code: apiv1.CodeInvalid, Field: "soa.refresh", Message: "4294967295 is larger than 2147483647"},
		},
		{
			"secondary fields in the request's order",
			`{"name":"b.test","primaries":[{"address":"192.0.2.1:53"}],"hostmaster":"h.b.test.","serial_policy":"date","soa":{"refresh":60}}`,
			apiv1.Error{Status: 400, Code: apiv1.CodeInvalid, Field: "hostmaster", Message: "a secondary zone takes its SOA and NS records from its primaries: leave hostmaster out"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				r := e.do(t, "POST", "/v1/zones", e.admin, tc.body)
				if got := r.apiError(t); got != tc.want {
					t.Fatalf("error %+v, want %+v", got, tc.want)
				}
			}
		})
	}
	var list apiv1.ZoneList
	e.do(t, "GET", "/v1/zones", e.admin, "").decode(t, &list)
	if len(list.Zones) != 0 {
		t.Errorf("rejected requests created zones: %+v", list.Zones)
	}
}
