package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCLIEndpointAnswered: endpoint list's ANSWERED column says what the
// answers do. With every eu endpoint down, failing open answers them, so
// they are answered; the healthy us endpoint, outside the service's
// jurisdictions, is never answered. dig agrees, and --help defines the
// column.
func TestCLIEndpointAnswered(t *testing.T) {
	t.Parallel()
	const svc = "ans.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	dead := steerUnused(t, "127.0.0.21")
	steerService(t, s, fmt.Sprintf(`{"name":%q,"jurisdictions":["eu"],"pools":[
		{"name":"us","jurisdiction":"us","priority":0},
		{"name":"eu","jurisdiction":"eu","priority":1,"check":{"type":"http","port":%d,"interval":"1s","fall":1,"rise":1}}]}`, svc, dead))
	steerEndpoint(t, s, svc, "us1", `{"pool":"us","address":"127.0.0.23"}`)
	steerEndpoint(t, s, svc, "eu1", `{"pool":"eu","address":"127.0.0.21"}`)
	steerEndpoint(t, s, svc, "eu2", `{"pool":"eu","address":"127.0.0.22"}`)
	steerWaitState(t, s, svc, "eu1", "down", 5*time.Second)
	steerWaitState(t, s, svc, "eu2", "down", 5*time.Second)
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.21,127.0.0.22" {
		t.Fatalf("dig A answers %s, want both eu endpoints (failing open)", r)
	}

	out := steerMustCLI(t, s, "endpoint", "list", svc)
	answered := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 3 {
			answered[f[0]] = f[3]
		}
	}
	for id, want := range map[string]string{"eu1": "yes", "eu2": "yes", "us1": "no"} {
		if answered[id] != want {
			t.Errorf("%s: ANSWERED %q, want %q\n%s", id, answered[id], want, out)
		}
	}
	if !strings.Contains(out, "failing open") || !strings.Contains(out, `jurisdiction "us"`) {
		t.Errorf("WHY does not say failing open and the jurisdiction:\n%s", out)
	}
	eps := steerEndpoints(t, s, svc)
	if st := eps["us1"].Steering; st == nil || st.Answered != "no" || !st.Answerable {
		t.Errorf("us1 steering %+v: want answerable (healthy) but not answered", st)
	}
	if help := steerMustCLI(t, s, "endpoint", "list", "--help"); !strings.Contains(help, "with no location") {
		t.Errorf("--help does not define ANSWERED:\n%s", help)
	}
}

// TestCLILeaseAndUpdatedFormats: register, renew and list say a lease the
// same way (a Go duration and a time to the second, never nanoseconds),
// and a secondary zone before its first transfer was never updated (not
// at the zero time).
func TestCLILeaseAndUpdatedFormats(t *testing.T) {
	t.Parallel()
	const svc = "lease.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"lease.fn.example.com","pools":[{"name":"p"}]}`)
	lease := regexp.MustCompile(`lease 30s, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$`)
	if out := steerMustCLI(t, s, "endpoint", "register", svc, "a", "--pool", "p", "--address", "192.0.2.1", "--ttl", "30s"); !lease.MatchString(out) {
		t.Errorf("register: %q, want it to end like %s", out, lease)
	}
	if out := steerMustCLI(t, s, "endpoint", "renew", svc, "a"); !lease.MatchString(out) {
		t.Errorf("renew: %q, want it to end like %s", out, lease)
	}
	if out := steerMustCLI(t, s, "endpoint", "list", svc); !regexp.MustCompile(`30s, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `).MatchString(out) {
		t.Errorf("list: LEASE is not written like register's:\n%s", out)
	}

	dead := steerUnused(t, "127.0.0.1")
	steerMustCLI(t, s, "zone", "create", "sec.test", "--primary", fmt.Sprintf("127.0.0.1:%d", dead))
	get := steerMustCLI(t, s, "zone", "get", "sec.test")
	if !regexp.MustCompile(`(?m)^updated\s+never$`).MatchString(get) || strings.Contains(get, "0001-01-01") {
		t.Errorf("zone get of a secondary never transferred:\n%s", get)
	}
	if list := steerMustCLI(t, s, "zone", "list"); strings.Contains(list, "0001-01-01") || !regexp.MustCompile(`(?m)^sec\.test\..*never$`).MatchString(list) {
		t.Errorf("zone list:\n%s", list)
	}
	if js := steerMustCLI(t, s, "zone", "get", "sec.test", "-o", "json"); strings.Contains(js, `"updated"`) {
		t.Errorf("zone get -o json of a secondary never transferred has an update time:\n%s", js)
	}
}
