package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// FuzzChangeRequest feeds arbitrary bodies to the strict JSON decoder and
// the change parser: they must never panic, every rejection must be a 4xx
// error, and every accepted change must be valid for the zone.
func FuzzChangeRequest(f *testing.F) {
	for _, s := range []string{
		`{"changes":[{"op":"add","name":"www","type":"A","ttl":60,"records":["192.0.2.1"]}]}`,
		`{"changes":[{"op":"set","name":"@","type":"MX","records":["10 mail.example.com."]}]}`,
		`{"changes":[{"op":"delete","name":"x.example.com.","type":"TXT"}]}`,
		`{"changes":[{"op":"add","name":"_s._tcp","type":"SRV","records":["1 2 3 t.example.net."]}]}`,
		`{"changes":[{"op":"add","name":"h","type":"TYPE65280","records":["\\# 2 abcd"]}]}`,
		`{"changes":[]}`, `{`, `[]`, `{"changes":null}`,
	} {
		f.Add(s)
	}
	zone := model.MustName("example.com.")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("PATCH", "/v1/zones/example.com/rrsets", strings.NewReader(body))
		w := httptest.NewRecorder()
		var req apiv1.ChangeRequest
		if err := decodeJSON(w, r, &req); err != nil {
			if he := toHTTP(err); he.status < 400 || he.status >= 500 {
				t.Fatalf("decode error maps to %d: %v", he.status, err)
			}
			return
		}
		for i := range req.Changes {
			c, err := parseChange(zone, &req.Changes[i], "changes[0]")
			if err != nil {
				if he := toHTTP(err); he.status != 400 {
					t.Fatalf("parse error maps to %d: %v", he.status, err)
				}
				continue
			}
			if !c.Name.IsSubdomainOf(zone) || model.CheckStorableType(c.Type) != nil {
				t.Fatalf("accepted an invalid change %+v", c)
			}
			for _, rd := range c.Rdata {
				if _, err := model.FormatRdata(c.Type, rd); err != nil {
					t.Fatalf("accepted data that does not print back: %v", err)
				}
			}
		}
	})
}
