package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestZoneFileExpansionRefused uploads a zone file of a few hundred bytes
// whose $GENERATE lines would make 1,310,720 records: it is refused with a
// 400 naming the line and the limit, and no zone is created.
func TestZoneFileExpansionRefused(t *testing.T) {
	e := newAPI(t)
	bomb, err := os.ReadFile(filepath.Join("..", "zonefile", "testdata", "generate-bomb.zone"))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "PUT", "/v1/zones/example.com/zonefile", e.admin, string(bomb), "Content-Type", "text/dns")
	ae := r.apiError(t)
	if r.status != 400 || ae.Field != "zonefile:11" || !strings.Contains(ae.Message, "more than 262144 records") ||
		!strings.Contains(ae.Message, "zones.max_generated_records") {
		t.Fatalf("upload: %d %s; want 400 at zonefile:11 naming the limit", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones/example.com", e.admin, ""); r.status != 404 {
		t.Errorf("zone after the refused upload: %d %s", r.status, r.body)
	}
}
