package api

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes keeps openapi.json in step with the routes: the
// same paths and methods, and each operation names the scope it needs.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Description string
			RequestBody *struct{ Content map[string]any } `json:"requestBody"`
			Responses   map[string]any
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = op.Description
			if slices.Contains(ProbeRoutes, key) {
				continue // no token, no body
			}
			want := []string{"401"}
			if method != "get" {
				want = append(want, "503") // committed but not served in time
			}
			if op.RequestBody != nil {
				want = append(want, "400", "413", "415")
			}
			for _, code := range want {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s does not document status %s", key, code)
				}
			}
		}
	}
	served := map[string]string{}
	for _, rt := range (&Handler{}).routes() {
		served[rt.method+" "+rt.pattern] = rt.scope
	}
	for _, k := range ProbeRoutes {
		served[k] = "" // needs no token: the description says so
	}
	var missing, extra []string
	for k, scope := range served {
		desc, ok := documented[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		if scope == "" && !strings.Contains(desc, "Needs no token") {
			t.Errorf("%s: the description does not say it needs no token", k)
		} else if scope != "" && !strings.Contains(desc, "`"+scope+"`") {
			t.Errorf("%s: the description does not name its scope %q", k, scope)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json documents routes that do not exist: %v", extra)
	}
}
