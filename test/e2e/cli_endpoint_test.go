package e2e

import (
	"fmt"
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
