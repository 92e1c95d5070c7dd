package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestSteerValidation: bad service, endpoint and record input is refused
// through the CLI (exit code 2, a message naming the field) and the API
// (400 with the field), and changes nothing: unknown fields, an unknown
// policy, an endpoint in a pool that does not exist, a service outside
// every zone, records that conflict with a service (either order), a zone
// that still holds a service, and out-of-range values.
func TestSteerValidation(t *testing.T) {
	t.Parallel()
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	testdata := func(name string) string { return filepath.Join("testdata", name) }

	// Service files, checked by the CLI or the server.
	for _, c := range []struct{ file, want string }{
		{"steer_bad_field.yaml", `unknown field "polcy"`},
		{"steer_bad_nested_field.yaml", `unknown field "intervall"`},
		{"steer_bad_policy.yaml", `unknown policy "fastest"`},
		{"steer_no_zone.yaml", "api.other.test. is in no zone this server serves"},
	} {
		msg := steerCLIFail(t, s, 2, "service", "create", "-f", testdata(c.file))
		if !strings.Contains(msg, c.want) {
			t.Errorf("service create -f %s: %q, want it to say %q", c.file, msg, c.want)
		}
	}
	if out := steerMustCLI(t, s, "service", "list"); strings.Contains(out, svc) {
		t.Fatalf("a refused service was created:\n%s", out)
	}
	steerMustCLI(t, s, "service", "create", "-f", testdata("steer_api.yaml"))
	if msg := steerCLIFail(t, s, 4, "service", "create", "-f", testdata("steer_api.yaml")); !strings.Contains(msg, "already exists") {
		t.Errorf("creating a service twice: %q", msg)
	}

	// The API names the field.
	for _, c := range []struct{ body, field, msg string }{
		{`{"name":"b.fn.example.com","polcy":"failover","pools":[{"name":"p"}]}`, "polcy", "unknown field"},
		{`{"name":"b.fn.example.com","policy":"fastest","pools":[{"name":"p"}]}`, "policy", `unknown policy "fastest"`},
		{`{"name":"b.other.test","pools":[{"name":"p"}]}`, "name", "no zone"},
		{`{"name":"b.fn.example.com","pools":[]}`, "pools", "at least one pool"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p"},{"name":"p"}]}`, "pools[1].name", "twice"},
		{`{"name":"b.fn.example.com","max_answers":65,"pools":[{"name":"p"}]}`, "max_answers", "65"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p","check":{"type":"icmp"}}]}`, "pools[0].check.type", "icmp"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p","check":{"type":"http","interval":"100ms"}}]}`, "pools[0].check.interval", "100ms"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p","check":{"type":"tcp"}}]}`, "pools[0].check.port", "port"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p","check":{"type":"http","interval":"1s","timeout":"2s"}}]}`, "pools[0].check.timeout", "interval"},
		{`{"name":"b.fn.example.com","pools":[{"name":"p","country":"Germany"}]}`, "pools[0].country", "ISO 3166"},
		{`{"name":"b.fn.example.com","when_all_down":{"mode":"fallback","pool":"nope"},"pools":[{"name":"p"}]}`, "when_all_down.pool", "nope"},
		{`{"name":"b.fn.example.com","when_all_down":{"mode":"panic"},"pools":[{"name":"p"}]}`, "when_all_down.mode", "panic"},
		{`{"name":"b.fn.example.com","cold_start":{"mode":"wait","wait":"10m"},"pools":[{"name":"p"}]}`, "cold_start.wait", "5m"},
		{`{"name":"b.fn.example.com","chain":["health","nearest"],"pools":[{"name":"p"}]}`, "chain[1]", "nearest"},
		{`{"name":"b.fn.example.com","jurisdictions":["eu"],"pools":[{"name":"p","jurisdiction":"us"}]}`, "jurisdictions", "no pool"},
		{`{"name":"b.fn.example.com","jurisdictions":["eu"],"when_all_down":{"mode":"static","static":["192.0.2.9"]},"pools":[{"name":"p","jurisdiction":"eu"}]}`, "when_all_down.jurisdiction", "say which of them"},
		{`{"name":"b.fn.example.com","jurisdictions":["eu"],"when_all_down":{"mode":"static","static":["192.0.2.9"],"jurisdiction":"us"},"pools":[{"name":"p","jurisdiction":"eu"}]}`, "when_all_down.jurisdiction", "outside the allowed jurisdictions"},
		{`{"name":"*.fn.example.com","pools":[{"name":"p"}]}`, "name", "wildcard"},
	} {
		st, body := s.api("POST", "/v1/services", c.body)
		e := steerAPIError(t, body)
		if st != http.StatusBadRequest || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
			t.Errorf("POST /v1/services %s:\n%d %s\nwant 400 with field %q and %q", c.body, st, body, c.field, c.msg)
		}
	}

	// Endpoints.
	if msg := steerCLIFail(t, s, 2, "endpoint", "register", svc, "e1", "--pool", "nope", "--address", "192.0.2.1"); !strings.Contains(msg, `no pool "nope"`) {
		t.Errorf("endpoint in a pool that does not exist: %q", msg)
	}
	for _, c := range []struct{ body, field, msg string }{
		{`{"pool":"nope","address":"192.0.2.1"}`, "pool", "nope"},
		{`{"pool":"primary","address":"not an address"}`, "address", "not an address"},
		{`{"pool":"primary","address":"192.0.2.1","ttl":"500ms"}`, "ttl", "500ms"},
		{`{"pool":"primary","address":"192.0.2.1","check_target":"192.0.2.1:99999"}`, "check_target", "99999"},
		{`{"pool":"primary","address":"192.0.2.1","colour":"red"}`, "colour", "unknown field"},
	} {
		st, body := s.api("PUT", "/v1/services/"+svc+"/endpoints/e1", c.body)
		e := steerAPIError(t, body)
		if st != http.StatusBadRequest || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
			t.Errorf("PUT endpoint %s:\n%d %s\nwant 400 with field %q and %q", c.body, st, body, c.field, c.msg)
		}
	}
	if len(steerEndpoints(t, s, svc)) != 0 {
		t.Errorf("refused endpoints were registered: %v", steerEndpoints(t, s, svc))
	}
	steerCLIFail(t, s, 3, "endpoint", "register", "nosuch.fn.example.com", "e1", "--pool", "primary", "--address", "192.0.2.1")

	// Records at a service's name.
	if msg := steerCLIFail(t, s, 2, "record", "add", "fn.example.com", "api", "A", "192.0.2.1"); !strings.Contains(msg, "steered service") {
		t.Errorf("an A record at a service's name: %q", msg)
	}
	if msg := steerCLIFail(t, s, 2, "record", "add", "fn.example.com", "api", "TXT", `"hello"`); !strings.Contains(msg, "CNAME") {
		t.Errorf("a TXT record at a service's name that may answer a CNAME: %q", msg)
	}
	// A service where there are records.
	steerMustCLI(t, s, "record", "add", "fn.example.com", "cn", "CNAME", "target.example.net.")
	st, body := s.api("POST", "/v1/services", `{"name":"cn.fn.example.com","pools":[{"name":"p"}]}`)
	if e := steerAPIError(t, body); st != http.StatusBadRequest || e.Field != "name" || !strings.Contains(e.Message, "CNAME") {
		t.Errorf("a service where a CNAME is: %d %s", st, body)
	}
	steerMustCLI(t, s, "record", "add", "fn.example.com", "txt", "TXT", `"v=1"`)
	st, body = s.api("POST", "/v1/services", `{"name":"txt.fn.example.com","pools":[{"name":"p"}]}`)
	if e := steerAPIError(t, body); st != http.StatusBadRequest || e.Field != "name" || !strings.Contains(e.Message, "flatten") {
		t.Errorf("a non-flattened service where a TXT record is: %d %s", st, body)
	}
	// A delegation below: no service there.
	steerMustCLI(t, s, "record", "add", "fn.example.com", "sub", "NS", "ns1.example.net.")
	st, body = s.api("POST", "/v1/services", `{"name":"api.sub.fn.example.com","pools":[{"name":"p"}]}`)
	if e := steerAPIError(t, body); st != http.StatusBadRequest || e.Field != "name" || !strings.Contains(e.Message, "delegation") {
		t.Errorf("a service below a delegation: %d %s", st, body)
	}

	// Updating away a pool that has endpoints is refused.
	steerEndpoint(t, s, svc, "b1", `{"pool":"backup","address":"192.0.2.9"}`)
	st, body = s.api("PUT", "/v1/services/"+svc, `{"pools":[{"name":"primary"}]}`)
	if e := steerAPIError(t, body); st != http.StatusConflict || e.Field != "pools" || !strings.Contains(e.Message, "b1") {
		t.Errorf("removing a pool with endpoints: %d %s", st, body)
	}

	// The zone cannot go while it holds a service: a conflict.
	if msg := steerCLIFail(t, s, 4, "zone", "delete", "fn.example.com"); !strings.Contains(msg, "api.fn.example.com") {
		t.Errorf("zone delete with a service: %q", msg)
	}
	if r := steerA(t, s, svc); len(r.Answer) == 0 {
		t.Errorf("after the refused zone delete the service is not answered: %s", r)
	}
	steerMustCLI(t, s, "service", "delete", svc)
	steerMustCLI(t, s, "zone", "delete", "fn.example.com")
}
