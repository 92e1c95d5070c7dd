package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

type apiEnv struct {
	srv   *httptest.Server
	svc   *control.Plane
	admin string
}

func newAPI(t *testing.T) *apiEnv {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{}))
	t.Cleanup(srv.Close)
	return &apiEnv{srv: srv, svc: svc, admin: admin}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r *resp) apiError(t *testing.T) apiv1.Error {
	t.Helper()
	var e apiv1.ErrorResponse
	r.decode(t, &e)
	if e.Error.Status != r.status {
		t.Errorf("error body status %d, response status %d", e.Error.Status, r.status)
	}
	return e.Error
}

func (e *apiEnv) do(t testing.TB, method, path, token, body string, hdr ...string) *resp {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

const createExample = `{"name":"example.com","nameservers":["ns1.example.com.","ns2.example.net."],"default_ttl":300}`

func TestAuthentication(t *testing.T) {
	e := newAPI(t)
	r := e.do(t, "GET", "/v1/zones", "", "")
	if r.status != 401 || r.header.Get("WWW-Authenticate") == "" || r.apiError(t).Code != apiv1.CodeUnauthenticated {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones", "stratus_000000000000_nope", ""); r.status != 401 {
		t.Errorf("bad token: %d", r.status)
	}
	if r := e.do(t, "GET", "/v1/openapi.json", "", ""); r.status != 401 {
		t.Errorf("openapi without token: %d", r.status)
	}
	r = e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"reader","scopes":["zones:read"]}`)
	var tok apiv1.CreatedToken
	r.decode(t, &tok)
	if r.status != 201 || tok.Secret == "" {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones", tok.Secret, ""); r.status != 200 {
		t.Errorf("reader listing zones: %d", r.status)
	}
	r = e.do(t, "POST", "/v1/zones", tok.Secret, createExample)
	if r.status != 403 || r.apiError(t).Code != apiv1.CodePermissionDenied {
		t.Errorf("reader creating a zone: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/tokens", tok.Secret, ""); r.status != 403 {
		t.Errorf("reader listing tokens: %d", r.status)
	}
	r = e.do(t, "GET", "/v1/tokens", e.admin, "")
	if r.status != 200 || bytes.Contains(r.body, []byte(tok.Secret)) || bytes.Contains(r.body, []byte("hash")) {
		t.Errorf("token list leaks secrets or fails: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/tokens/"+tok.ID, e.admin, ""); r.status != 204 {
		t.Errorf("delete token: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones", tok.Secret, ""); r.status != 401 {
		t.Errorf("deleted token still works: %d", r.status)
	}
}

func TestZoneLifecycle(t *testing.T) {
	e := newAPI(t)
	r := e.do(t, "POST", "/v1/zones", e.admin, createExample)
	if r.status != 201 || r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/v1/zones/example.com." {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	var z apiv1.Zone
	r.decode(t, &z)
	if z.Name != "example.com." || (z.Serial == nil || *z.Serial != 1) || z.DefaultTTL != 300 || z.RRsets != 2 {
		t.Errorf("zone %+v", z)
	}
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 409 || r.apiError(t).Code != apiv1.CodeAlreadyExists {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones", e.admin, "")
	var zl apiv1.ZoneList
	r.decode(t, &zl)
	if len(zl.Zones) != 1 {
		t.Errorf("list: %s", r.body)
	}
	if r := e.do(t, "GET", "/v1/zones/example.com.", e.admin, ""); r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Errorf("get: %d %v", r.status, r.header)
	}
	if r := e.do(t, "DELETE", "/v1/zones/example.com", e.admin, "", "If-Match", `"7"`); r.status != 412 {
		t.Errorf("delete with stale If-Match: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/zones/example.com", e.admin, "", "If-Match", `"1"`); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones/example.com", e.admin, ""); r.status != 404 || r.apiError(t).Code != apiv1.CodeNotFound {
		t.Errorf("get deleted: %d %s", r.status, r.body)
	}
}

func TestBadInput(t *testing.T) {
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatal(r.status)
	}
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		field, msg               string
	}{
		{"unknown field", "POST", "/v1/zones", `{"name":"a.test","nameservers":["ns.a.test."],"colour":"red"}`, nil, 400, "colour", "unknown field"},
		{"malformed JSON", "POST", "/v1/zones", `{"name":`, nil, 400, "", "malformed JSON"},
		{"trailing data", "POST", "/v1/zones", `{"name":"a.test","nameservers":["ns.a.test."]} {}`, nil, 400, "", "after the JSON object"},
		{"wrong JSON type", "POST", "/v1/zones", `{"name":"a.test","nameservers":["ns.a.test."],"default_ttl":"big"}`, nil, 400, "default_ttl", "whole number"},
		{"empty body", "POST", "/v1/zones", ``, nil, 400, "", "empty"},
		{"bad zone name", "POST", "/v1/zones", `{"name":"a..test","nameservers":["ns.a.test."]}`, nil, 400, "name", "not a valid domain name"},
		{"no name servers", "POST", "/v1/zones", `{"name":"a.test"}`, nil, 400, "nameservers", "at least one name server"},
		{"bad name server", "POST", "/v1/zones", `{"name":"a.test","nameservers":["ns..a.test."]}`, nil, 400, "nameservers[0]", "not a valid"},
		{"bad serial policy", "POST", "/v1/zones", `{"name":"a.test","nameservers":["ns.a.test."],"serial_policy":"random"}`, nil, 400, "serial_policy", "unknown serial policy"},
		{"wrong content type", "POST", "/v1/zones", `name=a.test`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "", "application/json"},
		{"bad record data", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1","999.0.0.1"]}]}`, nil, 400, "changes[0].records[1]", "A"},
		{"relative name in data", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"CNAME","records":["target.example.net"]}]}`, nil, 400, "changes[0].records[0]", "fully qualified"},
		{"unknown type", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"BOGUS","records":["x"]}]}`, nil, 400, "changes[0].type", "unknown record type"},
		{"unknown op", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"upsert","name":"www","type":"A","records":["192.0.2.1"]}]}`, nil, 400, "changes[0].op", "unknown operation"},
		{"out of zone", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www.example.org.","type":"A","records":["192.0.2.1"]}]}`, nil, 400, "changes[0].name", "not in zone"},
		{"TTL too large", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","ttl":4294967295,"records":["192.0.2.1"]}]}`, nil, 400, "changes[0].ttl", "maximum TTL"},
		{"CNAME beside data", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"@","type":"CNAME","records":["x.example.net."]}]}`, nil, 400, "changes[0]", "CNAME"},
		{"no changes", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[]}`, nil, 400, "changes", "no changes"},
		{"missing zone", "PATCH", "/v1/zones/nope.test/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1"]}]}`, nil, 404, "", "zone not found"},
		{"bad If-Match", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1"]}]}`, []string{"If-Match", "soon"}, 400, "If-Match", "zone serial"},
		{"stale If-Match", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1"]}]}`, []string{"If-Match", `"99"`}, 412, "", "not 99"},
		{"unknown query parameter", "GET", "/v1/zones/example.com/rrsets?nme=www", ``, nil, 400, "nme", "unknown query parameter"},
		{"bad path type", "GET", "/v1/zones/example.com/rrsets/www/NOPE", ``, nil, 400, "type", "unknown record type"},
		{"zone file syntax error", "PUT", "/v1/zones/z.test/zonefile", "@ 300 SOA ns.z.test. h.z.test. 1 2 3 4 5\n@ NS ns.z.test.\nwww A 300.1.1.1\n", nil, 400, "zonefile:3", ""},
		{"zone file content type", "PUT", "/v1/zones/z.test/zonefile", "x", []string{"Content-Type", "application/json"}, 415, "", "text/dns"},
		{"weak If-Match", "PATCH", "/v1/zones/example.com/rrsets", `{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1"]}]}`, []string{"If-Match", `W/"1"`}, 400, "If-Match", "weak"},
		{"zone file unknown parameter", "PUT", "/v1/zones/z.test/zonefile?serial=5", "x", nil, 400, "serial", "unknown query parameter"},
		{"serial policy of an existing zone", "PUT", "/v1/zones/example.com/zonefile?serial_policy=date", "$ORIGIN example.com.\n@ 300 SOA ns1 h 1 2 3 4 5\n@ 300 NS ns1.example.com.\n", nil, 400, "serial_policy", "applies only when"},
		{"compact keeping nothing", "POST", "/v1/zones/example.com/journal/compact", `{"keep":0}`, nil, 400, "keep", "at least 1"},
		{"unknown path", "GET", "/v1/zonez", ``, nil, 404, "", "openapi.json"},
		{"wrong method", "POST", "/v1/zones/example.com", `{}`, nil, 405, "", "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, e.admin, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			ae := r.apiError(t)
			if ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("error %+v, want field %q and a message containing %q", ae, tc.field, tc.msg)
			}
		})
	}
	// None of it changed the zone.
	r := e.do(t, "GET", "/v1/zones/example.com", e.admin, "")
	var z apiv1.Zone
	r.decode(t, &z)
	if (z.Serial == nil || *z.Serial != 1) || z.RRsets != 2 {
		t.Errorf("rejected requests changed the zone: %+v", z)
	}
	if r := e.do(t, "GET", "/v1/zones/z.test", e.admin, ""); r.status != 404 {
		t.Errorf("a failed import created its zone: %d", r.status)
	}
}

func TestRRsets(t *testing.T) {
	e := newAPI(t)
	e.do(t, "POST", "/v1/zones", e.admin, createExample)
	r := e.do(t, "PATCH", "/v1/zones/example.com/rrsets", e.admin,
		`{"changes":[{"op":"add","name":"www","type":"A","records":["192.0.2.1","192.0.2.2"]},{"op":"add","name":"www.example.com","type":"TXT","ttl":60,"records":["\"hello world\""]}]}`,
		"If-Match", `"1"`)
	var cr apiv1.ChangeResult
	r.decode(t, &cr)
	if r.status != 200 || cr.Serial != 2 || !cr.Changed || r.header.Get("ETag") != `"2"` {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones/example.com/rrsets/www/A", e.admin, "")
	var set apiv1.RRset
	r.decode(t, &set)
	if set.Name != "www.example.com." || set.TTL != 300 || strings.Join(set.Records, ",") != "192.0.2.1,192.0.2.2" {
		t.Errorf("get rrset: %s", r.body)
	}
	r = e.do(t, "PUT", "/v1/zones/example.com/rrsets/www/A", e.admin, `{"ttl":30,"records":["192.0.2.3"]}`)
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones/example.com/rrsets?name=www", e.admin, "")
	var list apiv1.RRsetList
	r.decode(t, &list)
	if list.Serial != 3 || len(list.RRsets) != 2 || list.RRsets[0].TTL != 30 || list.RRsets[1].Records[0] != `"hello world"` {
		t.Errorf("list: %s", r.body)
	}
	if r := e.do(t, "PUT", "/v1/zones/example.com/rrsets/www/A", e.admin, `{"ttl":30,"records":["nope"]}`); r.status != 400 || r.apiError(t).Field != "records[0]" {
		t.Errorf("put with bad data: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/zones/example.com/rrsets/www/TXT", e.admin, ""); r.status != 200 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/zones/example.com/rrsets/www/TXT", e.admin, ""); r.status != 404 {
		t.Errorf("delete again: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/zones/example.com/rrsets/www/TXT", e.admin, "", "If-Match", `"1"`); r.status != 404 {
		t.Errorf("delete a missing RRset with a stale If-Match: %d %s, want 404", r.status, r.body)
	}
	r = e.do(t, "DELETE", "/v1/zones/example.com/rrsets/www/A", e.admin, "", "If-Match", `"1"`)
	if r.status != 412 {
		t.Errorf("delete with a stale If-Match: %d %s, want 412", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones/example.com/journal?from=2", e.admin, "")
	var j apiv1.Journal
	r.decode(t, &j)
	if len(j.Entries) != 3 || j.Entries[0].Seq != 2 || j.Entries[0].Actor != "admin" || len(j.Entries[0].Added) != 4 {
		t.Errorf("journal: %s", r.body)
	}
	r = e.do(t, "POST", "/v1/zones/example.com/journal/compact", e.admin, `{"keep":2}`)
	var jc apiv1.JournalCompacted
	r.decode(t, &jc)
	if r.status != 200 || jc.Entries != 2 {
		t.Errorf("compact: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones/example.com/journal", e.admin, "")
	r.decode(t, &j)
	if len(j.Entries) != 2 || j.Entries[0].Seq != 3 {
		t.Errorf("journal after compaction: %s", r.body)
	}
}

func TestZoneFileRoundTrip(t *testing.T) {
	e := newAPI(t)
	zf := "$ORIGIN z.test.\n$TTL 300\n@ SOA ns.z.test. h.z.test. 10 3600 600 1209600 60\n@ NS ns\nns A 192.0.2.53\nwww CNAME ns\n"
	r := e.do(t, "PUT", "/v1/zones/z.test/zonefile", e.admin, zf, "Content-Type", "text/dns")
	var ir apiv1.ImportResult
	r.decode(t, &ir)
	if r.status != 201 || !ir.Created || ir.Serial != 10 || ir.Records != 4 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/zones/z.test/zonefile", e.admin, "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/dns" || r.header.Get("ETag") != `"10"` || !strings.Contains(string(r.body), "CNAME") {
		t.Fatalf("export: %d %v %s", r.status, r.header, r.body)
	}
	exported := string(r.body)
	r = e.do(t, "PUT", "/v1/zones/z.test/zonefile", e.admin, exported)
	r.decode(t, &ir)
	if r.status != 200 || ir.Changed || ir.Created {
		t.Errorf("re-import of the export: %d %s", r.status, r.body)
	}
	if r := e.do(t, "PUT", "/v1/zones/z.test/zonefile", e.admin, exported, "If-None-Match", "*"); r.status != 409 {
		t.Errorf("If-None-Match on an existing zone: %d", r.status)
	}
	if r := e.do(t, "PUT", "/v1/zones/y.test/zonefile", e.admin, exported, "If-Match", `"10"`); r.status != 404 && r.status != 400 {
		t.Errorf("If-Match on a missing zone: %d %s", r.status, r.body)
	}
}

func TestCreateTokenBadInput(t *testing.T) {
	e := newAPI(t)
	for _, tc := range []struct{ body, field, msg string }{
		{`{"name":" ","scopes":["zones:read"]}`, "name", "required"},
		{`{"name":"ci","scopes":[]}`, "scopes", "at least one scope"},
		{`{"name":"ci","scopes":["zones:read","zones:everything"]}`, "scopes[1]", `unknown scope "zones:everything"`},
	} {
		r := e.do(t, "POST", "/v1/tokens", e.admin, tc.body)
		if ae := r.apiError(t); r.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s, want 400 on %s mentioning %q", tc.body, r.status, r.body, tc.field, tc.msg)
		}
	}
	if r := e.do(t, "GET", "/v1/tokens", e.admin, ""); strings.Contains(string(r.body), `"ci"`) {
		t.Errorf("a refused token was created: %s", r.body)
	}
}

// TestContentTypes: a JSON body is read with Content-Type application/json
// (with parameters), or with none at all; a zone settings patch may also
// say application/merge-patch+json; any other type is refused with 415,
// and curl's default form type gets a hint.
func TestContentTypes(t *testing.T) {
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	add := `{"changes":[{"op":"add","name":"www","type":"A","ttl":60,"records":["192.0.2.7"]}]}`
	tests := []struct {
		name, method, path, body, ct string
		status                       int
		msg                          string
	}{
		{"none", "PATCH", "/v1/zones/example.com/rrsets", add, "", 200, ""},
		{"json", "PATCH", "/v1/zones/example.com/rrsets", add, "application/json", 200, ""},
		{"json with charset", "PATCH", "/v1/zones/example.com/rrsets", add, "application/json; charset=utf-8", 200, ""},
		{"json in capitals", "PATCH", "/v1/zones/example.com/rrsets", add, "Application/JSON", 200, ""},
		{"curl -d", "PATCH", "/v1/zones/example.com/rrsets", add, "application/x-www-form-urlencoded", 415, "add -H 'Content-Type: application/json'"},
		{"text", "PATCH", "/v1/zones/example.com/rrsets", add, "text/plain", 415, `not "text/plain"`},
		{"malformed", "PATCH", "/v1/zones/example.com/rrsets", add, "json;;", 415, "must be application/json"},
		{"merge patch where none is taken", "PATCH", "/v1/zones/example.com/rrsets", add, "application/merge-patch+json", 415, "must be application/json"},
		{"zone settings as merge patch", "PATCH", "/v1/zones/example.com", `{"default_ttl":600}`, "application/merge-patch+json", 200, ""},
		{"zone settings as JSON", "PATCH", "/v1/zones/example.com", `{"default_ttl":700}`, "application/json", 200, ""},
		{"zone settings without a type", "PATCH", "/v1/zones/example.com", `{"default_ttl":800}`, "", 200, ""},
		{"zone settings as text", "PATCH", "/v1/zones/example.com", `{"default_ttl":900}`, "text/plain", 415, "application/json or application/merge-patch+json"},
		{"token without a type", "POST", "/v1/tokens", `{"name":"ci","scopes":["zones:read"]}`, "", 201, ""},
	}
	for _, tc := range tests {
		var hdr []string
		if tc.ct != "" {
			hdr = []string{"Content-Type", tc.ct}
		}
		r := e.do(t, tc.method, tc.path, e.admin, tc.body, hdr...)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.status >= 400 {
			if ae := r.apiError(t); ae.Code != apiv1.CodeUnsupportedMedia || !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("%s: %+v, want a message containing %q", tc.name, ae, tc.msg)
			}
		}
	}
	var z apiv1.Zone
	e.do(t, "GET", "/v1/zones/example.com", e.admin, "").decode(t, &z)
	if z.DefaultTTL != 800 {
		t.Errorf("default TTL %d after the patches, want 800 (the refused one changed nothing)", z.DefaultTTL)
	}
}
